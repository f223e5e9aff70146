#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony/certbuild.h"
#include "ceremony/encode.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/hsm.h"
#include "ceremony/hsmkey.h"
#include "ceremony/leftover.h"
#include "ceremony/p11key.h"
#include "ceremony/p11probe.h"
#include "ceremony/pem.h"
#include "ceremony/profile.h"
#include "ceremony/readaloud.h"
#include "ceremony/rootkey.h"
#include "ceremony/sizes.h"
#include "ceremony/transcript.h"

/* Everything that names a token: its serial alone may be shared (tpm2-pkcs11). */
static json_t *token_json(const struct p11_token *t)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "label", t->label, "serial", t->serial,
			 "model", t->model, "manufacturer", t->manufacturer, "slot_description",
			 t->slot_description, "serial_unique", p11_token_serial_is_unique(t));
}

json_t *rootops_evidence_json(const struct p11key_evidence *ev)
{
	const struct {
		const char *name;
		int v;
	} f[] = {{"CKA_TOKEN", ev->token},
		 {"CKA_PRIVATE", ev->private_},
		 {"CKA_SENSITIVE", ev->sensitive},
		 {"CKA_EXTRACTABLE", ev->extractable},
		 {"CKA_WRAP_WITH_TRUSTED", ev->wrap_with_trusted},
		 {"CKA_SIGN", ev->sign},
		 {"CKA_DECRYPT", ev->decrypt},
		 {"CKA_UNWRAP", ev->unwrap},
		 {"CKA_DERIVE", ev->derive},
		 {"CKA_SIGN_RECOVER", ev->sign_recover},
		 {"CKA_LOCAL", ev->local},
		 {"CKA_ALWAYS_SENSITIVE", ev->always_sensitive},
		 {"CKA_NEVER_EXTRACTABLE", ev->never_extractable}};
	json_t *o = json_object();

	for (size_t i = 0; o != NULL && i < sizeof(f) / sizeof(f[0]); i++)
		json_object_set_new(o, f[i].name,
				    f[i].v < 0 ? json_null() : json_boolean(f[i].v));
	if (o != NULL)
		json_object_set_new(o, "CKA_KEY_GEN_MECHANISM",
				    json_string(p11key_mechanism_name(ev->key_gen_mechanism)));
	return o;
}

static void print_evidence(FILE *out, const struct p11key_evidence *ev)
{
	fprintf(out,
		"  LOCAL=%s ALWAYS_SENSITIVE=%s SENSITIVE=%s EXTRACTABLE=%s WRAP_WITH_TRUSTED=%s\n"
		"  NEVER_EXTRACTABLE=%s SIGN=%s DECRYPT=%s UNWRAP=%s DERIVE=%s KEY_GEN_MECHANISM=%s\n",
		ev->local == 1 ? "TRUE" : "FALSE", ev->always_sensitive == 1 ? "TRUE" : "FALSE",
		ev->sensitive == 1 ? "TRUE" : "FALSE", ev->extractable == 1 ? "TRUE" : "FALSE",
		ev->wrap_with_trusted == 1 ? "TRUE" : "FALSE",
		ev->never_extractable == 1 ? "TRUE" : "FALSE", ev->sign == 1 ? "TRUE" : "FALSE",
		ev->decrypt == 1 ? "TRUE" : "FALSE", ev->unwrap == 1 ? "TRUE" : "FALSE",
		ev->derive == 1 ? "TRUE" : "FALSE", p11key_mechanism_name(ev->key_gen_mechanism));
}

/* The key's SPKI (DER), its SHA-256 and an EVP_PKEY of it. */
static int key_public(struct p11_session *s, const struct p11key *k, uint8_t **der, size_t *len,
		      uint8_t md[SHA256_LEN], EVP_PKEY **pub)
{
	const unsigned char *p;
	unsigned int mdlen = 0;
	int r;

	if ((r = p11key_spki(s, k, der, len)) != 0)
		return r;
	if (!EVP_Digest(*der, *len, md, &mdlen, EVP_sha256(), NULL))
		return cer_err_ssl(CER_E_CRYPTO, "cannot hash the public key");
	if (pub != NULL) {
		p = *der;
		*pub = d2i_PUBKEY(NULL, &p, (long)*len);
		if (*pub == NULL)
			return cer_err_ssl(CER_E_CRYPTO, "cannot decode the public key");
	}
	return 0;
}

/* A key pair a failed run could not destroy: record it, so the next run knows (STYLE 17). */
static int key_leftover_record(struct transcript *tr, struct hsm *h, const struct p11key *k,
			       int r)
{
	char id_hex[2 * sizeof(k->id) + 1];

	hex_encode(k->id, k->id_len, id_hex);
	return leftover_record(tr, r, token_json(&h->token),
			       json_pack("[{s:s, s:s, s:s}]", "class", "private and public key",
					 "label", k->label, "id", id_hex),
			       "key.generate failed");
}

static json_t *waivers_json(unsigned waivers)
{
	json_t *a = json_array();
	const char *name;

	for (size_t i = 0; a != NULL && (name = p11key_waiver_name(waivers, i)) != NULL; i++)
		json_array_append_new(a, json_string(name));
	return a;
}

int rootops_key_generate(struct ceremony_ctx *ctx, const char *token, const char *label,
			 const char *type, enum p11key_policy policy, unsigned waivers, FILE *out)
{
	struct hsm h;
	struct transcript *tr = NULL;
	struct p11key key;
	struct p11key_evidence ev;
	enum key_type kt;
	uint8_t *spki = NULL, md[SHA256_LEN];
	size_t spki_len = 0;
	char id_hex[2 * sizeof(key.id) + 1], md_hex[SHA256_HEX_SIZE], *spki_hex = NULL, who[192];
	const char *tpath;
	int r, generated = 0;

	memset(&h, 0, sizeof(h));
	memset(&key, 0, sizeof(key));
	if ((r = key_type_parse(type, &kt)) != 0)
		return r;
	if ((r = ctx_transcript_path(ctx, "key generate", &tpath)) != 0)
		return r;
	if ((r = ctx_transcript_open(ctx, "key generate", &tr)) != 0)
		return r;
	/* Issue 12 item 3: what the token cannot do is said before the PIN prompt. */
	if ((r = hsm_open(ctx, token, &h)) != 0 ||
	    (r = p11key_generate_possible(h.module, &h.token, kt)) != 0)
		goto out;
	/* A wrap-policy key on a token that cannot wrap could never be backed up. */
	if (policy == P11KEY_ROOT_WRAP && (r = p11probe_check(h.module, &h.token, P11PROBE_WRAP)) != 0) {
		cer_err_prefix("--backup wrap (the default) needs RFC 5649 key wrap; give --backup "
			       "none for a key this tool never exports; nothing was generated: ");
		goto out;
	}
	if ((r = hsm_login_user(ctx, &h)) != 0)
		goto out;
	if ((r = p11key_generate(h.session, label, kt, policy, waivers, &key, &ev)) != 0) {
		if (key.priv != CK_INVALID_HANDLE)
			r = key_leftover_record(tr, &h, &key, r);
		goto out;
	}
	generated = 1;
	if ((r = key_public(h.session, &key, &spki, &spki_len, md, NULL)) != 0)
		goto out;
	spki_hex = malloc(2 * spki_len + 1);
	if (spki_hex == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	hex_encode(spki, spki_len, spki_hex);
	hex_encode(key.id, key.id_len, id_hex);
	hex_encode(md, sizeof(md), md_hex);
	r = transcript_append(tr, "key.generate", NULL, NULL,
			      json_pack("{s:o, s:{s:s, s:s, s:s}, s:o, s:s, s:s, s:s, s:o}", "token",
					token_json(&h.token), "key", "label", label, "id", id_hex,
					"type", key_type_name(kt), "evidence", rootops_evidence_json(&ev),
					"spki_sha256", md_hex, "spki", spki_hex, "backup_policy",
					p11key_policy_name(policy), "waivers", waivers_json(waivers)),
			      NULL);
	if (r != 0)
		goto out;
	generated = 0; /* recorded: the key belongs to the ceremony now */
	p11_token_describe(&h.token, who, sizeof(who));
	fprintf(out, "Generated %s key \"%s\" in token %s, CKA_ID %s\n", key_type_name(kt), label,
		who, id_hex);
	fprintf(out, "  generated in the HSM: evidence recorded\n");
	fprintf(out, "  backup policy  %s\n",
		policy == P11KEY_ROOT_WRAP ? "wrap (exportable only under a trusted KEK)"
					   : "none (never extractable: this key has no backup)");
	for (size_t i = 0; p11key_waiver_name(waivers, i) != NULL; i++)
		fprintf(out, "  waiver         %s (the module cannot honour or does not report it; "
			     "recorded)\n",
			p11key_waiver_name(waivers, i));
	print_evidence(out, &ev);
	readaloud_print(out, "SPKI sha256", md, 32);
out:
	if (r != 0 && generated && p11key_discard(h.session, &key) != 0)
		r = key_leftover_record(tr, &h, &key, r);
	free(spki_hex);
	free(spki);
	hsm_close(&h);
	transcript_close(tr);
	return r;
}

int rootops_key_show(struct ceremony_ctx *ctx, const char *token, const char *label, FILE *out)
{
	struct hsm h;
	struct p11key key;
	struct p11key_evidence ev;
	uint8_t *spki = NULL, md[SHA256_LEN];
	size_t spki_len = 0;
	unsigned waivers = 0, used = 0;
	char id_hex[2 * sizeof(key.id) + 1], who[192];
	int r, local;

	if ((r = hsm_open(ctx, token, &h)) != 0)
		return r;
	if ((r = hsm_login_user(ctx, &h)) != 0 || (r = p11key_find(h.session, label, &key)) != 0 ||
	    (r = p11key_evidence_read(h.session, &key, &ev)) != 0 ||
	    (r = p11key_waivers_read(h.session, &key, &waivers)) != 0 ||
	    (r = key_public(h.session, &key, &spki, &spki_len, md, NULL)) != 0)
		goto out;
	hex_encode(key.id, key.id_len, id_hex);
	p11_token_describe(&h.token, who, sizeof(who));
	fprintf(out, "Key \"%s\" in token %s\n  type           %s\n  CKA_ID         %s\n", label, who,
		key_type_name(key.type), id_hex);
	print_evidence(out, &ev);
	readaloud_print(out, "SPKI sha256", md, 32);
	for (size_t i = 0; p11key_waiver_name(waivers, i) != NULL; i++)
		fprintf(out, "  waiver         %s (recorded at generation)\n",
			p11key_waiver_name(waivers, i));
	/* A key that is not LOCAL came from a backup: held to what it can do, not how it was made. */
	local = ev.local == 1;
	r = p11key_evidence_check(&ev, ev.extractable == 1 ? P11KEY_ROOT_WRAP : P11KEY_ROOT_NONE,
				  local, waivers, &used);
	if (r != 0)
		fprintf(out, "  verdict        FAILS: %s; the tool will not sign with this key\n",
			cer_err_msg(r));
	else
		fprintf(out, "  verdict        %s, never in the clear, %s%s\n",
			local ? "generated in this HSM"
			      : "not generated in this HSM (CKA_LOCAL FALSE: recovered from a backup "
				"or imported)",
			ev.extractable == 1 ? "exportable only under a trusted KEK"
					    : "never extractable",
			used != 0 ? "; with the recorded waivers above" : "");
	/* Issue 12 item 2: a failing verdict is a failure (exit 1), not a report. */
out:
	free(spki);
	hsm_close(&h);
	return r;
}

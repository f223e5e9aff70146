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
#include "ceremony/pem.h"
#include "ceremony/profile.h"
#include "ceremony/readaloud.h"
#include "ceremony/rootops.h"
#include "ceremony/transcript.h"

static json_t *token_json(const struct p11_token *t)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "label", t->label, "serial", t->serial, "model",
			 t->model, "manufacturer", t->manufacturer);
}

int rootops_token_list(struct ceremony_ctx *ctx, FILE *out)
{
	struct p11_module *m = NULL;
	struct p11_token *tokens = NULL;
	const char *path;
	size_t n = 0;
	int r;

	if ((r = ctx_module_path(ctx, &path)) != 0)
		return r;
	if ((r = p11_module_load(path, &m)) != 0)
		return r;
	if ((r = p11_tokens_list(m, &tokens, &n)) != 0)
		goto out;
	fprintf(out, "Module %s: %zu slot%s\n", path, n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		const struct p11_token *t = &tokens[i];
		fprintf(out, "Slot 0x%lx: %s\n", (unsigned long)t->slot, t->slot_description);
		if (!t->present)
			fprintf(out, "  (no token)\n");
		else if (!t->initialized)
			fprintf(out, "  token: uninitialised\n");
		else
			fprintf(out,
				"  token label:  %s\n  manufacturer: %s\n  model:        %s\n"
				"  serial:       %s\n  login:        %s\n",
				t->label, t->manufacturer, t->model, t->serial,
				(t->flags & CKF_USER_PIN_INITIALIZED) ? "user PIN set"
								      : "user PIN not set");
	}
	r = 0;
out:
	free(tokens);
	p11_module_free(m);
	return r;
}

int rootops_token_init(struct ceremony_ctx *ctx, const char *label, FILE *out)
{
	struct p11_module *m = NULL;
	struct transcript *tr = NULL;
	struct secret *so = NULL, *user = NULL;
	struct p11_token tok;
	const char *path, *tpath;
	char what[96], prompt[CTX_PROMPT_MAX];
	int r;

	if ((r = ctx_transcript_path(ctx, "token init", &tpath)) != 0)
		return r;
	if ((r = ctx_transcript_open(ctx, "token init", &tr)) != 0)
		return r;
	if ((r = ctx_module_path(ctx, &path)) != 0 || (r = p11_module_load(path, &m)) != 0)
		goto out;
	(void)snprintf(what, sizeof(what), "new SO PIN for token \"%.32s\"", label);
	ctx_prompt(ctx, 1, what, prompt, sizeof(prompt));
	if ((r = secret_read_new(ctx->so_pin_source, prompt, SECRET_PIN_MAX, &so)) != 0)
		goto out;
	(void)snprintf(what, sizeof(what), "new user PIN for token \"%.32s\"", label);
	ctx_prompt(ctx, 0, what, prompt, sizeof(prompt));
	if ((r = secret_read_new(ctx->pin_source, prompt, SECRET_PIN_MAX, &user)) != 0)
		goto out;
	if ((r = p11_token_init(m, label, so, user, &tok)) != 0)
		goto out;
	if ((r = transcript_append(tr, "token.init", NULL, NULL,
				   json_pack("{s:o}", "token", token_json(&tok)), NULL)) != 0)
		goto out;
	fprintf(out, "Token \"%s\" initialised (serial %s, model %s); SO and user PINs set.\n",
		tok.label, tok.serial, tok.model);
out:
	secret_free(so);
	secret_free(user);
	p11_module_free(m);
	transcript_close(tr);
	return r;
}

static json_t *evidence_json(const struct p11key_evidence *ev)
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
		      uint8_t md[32], EVP_PKEY **pub)
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

int rootops_key_generate(struct ceremony_ctx *ctx, const char *token, const char *label,
			 const char *type, FILE *out)
{
	struct hsm h;
	struct transcript *tr = NULL;
	struct p11key key;
	struct p11key_evidence ev;
	enum key_type kt;
	uint8_t *spki = NULL, md[32];
	size_t spki_len = 0;
	char id_hex[2 * sizeof(key.id) + 1], md_hex[65], *spki_hex = NULL;
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
	if ((r = hsm_open(ctx, token, &h)) != 0 || (r = hsm_login_user(ctx, &h)) != 0)
		goto out;
	if ((r = p11key_generate(h.session, label, kt, &key, &ev)) != 0) {
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
			      json_pack("{s:o, s:{s:s, s:s, s:s}, s:o, s:s, s:s}", "token",
					token_json(&h.token), "key", "label", label, "id", id_hex,
					"type", key_type_name(kt), "evidence", evidence_json(&ev),
					"spki_sha256", md_hex, "spki", spki_hex),
			      NULL);
	if (r != 0)
		goto out;
	generated = 0; /* recorded: the key belongs to the ceremony now */
	fprintf(out, "Generated %s key \"%s\" in token \"%s\" (serial %s), CKA_ID %s\n",
		key_type_name(kt), label, h.token.label, h.token.serial, id_hex);
	fprintf(out, "  generated in the HSM: evidence recorded\n");
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
	uint8_t *spki = NULL, md[32];
	size_t spki_len = 0;
	char id_hex[2 * sizeof(key.id) + 1];
	int r;

	if ((r = hsm_open(ctx, token, &h)) != 0)
		return r;
	if ((r = hsm_login_user(ctx, &h)) != 0 || (r = p11key_find(h.session, label, &key)) != 0 ||
	    (r = p11key_evidence_read(h.session, &key, &ev)) != 0 ||
	    (r = key_public(h.session, &key, &spki, &spki_len, md, NULL)) != 0)
		goto out;
	hex_encode(key.id, key.id_len, id_hex);
	fprintf(out, "Key \"%s\" in token \"%s\" (serial %s)\n  type           %s\n  CKA_ID         %s\n",
		label, h.token.label, h.token.serial, key_type_name(key.type), id_hex);
	print_evidence(out, &ev);
	readaloud_print(out, "SPKI sha256", md, 32);
	r = p11key_evidence_check(&ev, 1);
	fprintf(out, "  verdict        %s\n",
		r == 0 ? "generated in this HSM, never in the clear, exportable only under a "
			 "trusted KEK"
		       : cer_err_msg(r));
	r = 0;
out:
	free(spki);
	hsm_close(&h);
	return r;
}

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony/approve.h"
#include "ceremony/countersig.h"
#include "ceremony/encode.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/hsm.h"
#include "ceremony/hsmkey.h"
#include "ceremony/keyrecord.h"
#include "ceremony/p11key.h"
#include "ceremony/p11probe.h"
#include "ceremony/readaloud.h"
#include "ceremony/sizes.h"
#include "ceremony/transcript.h"
#include "ceremony/witness.h"

static int witness_name_check(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > COUNTERSIG_NAME_MAX)
		return cer_err(CER_E_INPUT, "--name must be 1 to %d bytes", COUNTERSIG_NAME_MAX);
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return cer_err(CER_E_INPUT, "--name holds a control character");
	return 0;
}

/*
 * A witness key signs countersignatures and nothing else, and never leaves its
 * card: unlike the root key it has no backup, so EXTRACTABLE is FALSE outright
 * (p11key's witness policy).
 */
/*
 * The existing key labelled label (its stored waivers in *waivers), or a new one
 * under the waivers asked; *generated says which.
 */
static int witness_key_get(struct p11_session *s, const char *label, struct p11key *k,
			   struct p11key_evidence *ev, unsigned *waivers, int *generated)
{
	int r;

	*generated = 0;
	r = p11key_find(s, label, k);
	if (r == CER_E_NOTFOUND) {
		cer_err_clear();
		*generated = 1;
		return p11key_generate(s, label, KEY_EC_P256, P11KEY_WITNESS, *waivers, k, ev);
	}
	if (r != 0)
		return r;
	if (k->type != KEY_EC_P256)
		return cer_err(CER_E_REFUSED, "card \"%s\": key \"%s\" is %s; a witness key is ec-p256",
			       p11_session_token(s)->label, label, key_type_name(k->type));
	if ((r = p11key_evidence_read(s, k, ev)) != 0 || (r = p11key_waivers_read(s, k, waivers)) != 0 ||
	    (r = p11key_evidence_check(ev, P11KEY_WITNESS, 0, *waivers, NULL)) != 0)
		cer_err_prefix("card \"%s\": key \"%s\": ", p11_session_token(s)->label, label);
	return r;
}

static json_t *witness_evidence_json(const struct p11key_evidence *ev)
{
	return json_pack("{s:b, s:b, s:b, s:b, s:b, s:b}", "CKA_LOCAL", ev->local == 1,
			 "CKA_SENSITIVE", ev->sensitive == 1, "CKA_ALWAYS_SENSITIVE",
			 ev->always_sensitive == 1, "CKA_EXTRACTABLE", ev->extractable == 1,
			 "CKA_NEVER_EXTRACTABLE", ev->never_extractable == 1, "CKA_SIGN",
			 ev->sign == 1);
}

/*
 * The record nests everything under "witness": transcript verify accepts a seal
 * by any key whose spki_sha256 sits directly in a record's details, and a
 * witness key must never pass for the CA's own.
 */
static json_t *witness_record(const struct p11_token *card, const struct p11key *k,
			      const struct p11key_evidence *ev, unsigned waivers, int generated,
			      const char *role, const char *name, const char *spki_hex,
			      const char *md_hex)
{
	char id_hex[2 * sizeof(k->id) + 1];

	hex_encode(k->id, k->id_len, id_hex);
	return json_pack("{s:{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:b}, s:o, "
			 "s:o, s:s, s:s}}",
			 "witness", "role", role, "name", name, "card", "label", card->label,
			 "serial", card->serial, "model", card->model, "manufacturer",
			 card->manufacturer, "slot_description", card->slot_description, "key",
			 "label", k->label, "id", id_hex, "type", key_type_name(k->type),
			 "generated_now", generated, "evidence", witness_evidence_json(ev),
			 "waivers", keyrecord_waivers(waivers), "spki", spki_hex, "spki_sha256", md_hex);
}

int witness_register(struct ceremony_ctx *ctx, const char *token, const char *label,
		     const char *role, const char *name, const char *waive,
		     const struct approve_opts *ao, FILE *out)
{
	struct hsm h;
	struct transcript *tr = NULL;
	struct p11key k;
	struct p11key_evidence ev;
	struct p11key_public pub;
	char *spki_hex = NULL;
	json_t *details;
	unsigned waivers = 0;
	int generated = 0, r;

	memset(&h, 0, sizeof(h));
	memset(&pub, 0, sizeof(pub));
	/* STYLE 9: every input before the card is touched. */
	if ((r = countersig_role_check(role)) != 0 || (r = witness_name_check(name)) != 0 ||
	    (waive != NULL && (r = p11key_waivers_parse_list(waive, &waivers)) != 0))
		return r;
	if (strlen(label) == 0 || strlen(label) > P11KEY_LABEL_MAX)
		return cer_err(CER_E_INPUT, "key label must be 1 to %d bytes", P11KEY_LABEL_MAX);
	if ((r = ctx_transcript_open(ctx, "witness register", &tr)) != 0)
		return r;
	if ((r = hsm_open(ctx, token, &h)) != 0 ||
	    (r = p11probe_check(h.module, &h.token, P11PROBE_WITNESS)) != 0 ||
	    (r = hsm_login_user(ctx, &h)) != 0)
		goto out;
	if ((r = witness_key_get(h.session, label, &k, &ev, &waivers, &generated)) != 0)
		goto out;
	if ((r = p11key_public_read(h.session, &k, &pub)) != 0 ||
	    (r = hex_encode_new(pub.spki, pub.spki_len, &spki_hex)) != 0)
		goto out;
	/* Under a quorum policy a new officer's key is approved first (docs/quorum.md). */
	if ((r = approve_officer_register(ctx, tr, role, name, h.token.label, pub.spki_sha256, ao,
					  out)) != 0)
		goto out;
	details = witness_record(&h.token, &k, &ev, waivers, generated, role, name, spki_hex,
				 pub.spki_sha256_hex);
	if (details == NULL) {
		r = cer_err(CER_E_INPUT, "cannot record the witness (is --name valid UTF-8?)");
		goto out;
	}
	if ((r = transcript_append(tr, "witness.register", NULL, NULL, details, NULL)) != 0)
		goto out;
	fprintf(out, "%s witness key \"%s\" on card \"%s\" (serial %s) registered for %s\n",
		generated ? "Generated" : "Found", label, h.token.label, h.token.serial, role);
	readaloud_print(out, "SPKI sha256", pub.spki_sha256, sizeof(pub.spki_sha256));
out:
	free(spki_hex);
	p11key_public_free(&pub);
	hsm_close(&h);
	transcript_close(tr);
	return r;
}

/* ECDSA over the digest, in the card; checked with the card's public key. */
static int witness_sign(EVP_PKEY *card_key, EVP_PKEY *pub, const uint8_t md[SHA256_LEN],
			uint8_t *sig, size_t *sig_len)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(card_key, NULL), *vctx = NULL;
	size_t len = *sig_len;
	int r = 0;

	if (pctx == NULL || EVP_PKEY_sign_init(pctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_sign(pctx, sig, &len, md, 32) <= 0) {
		r = cer_err_ssl(CER_E_P11, "the card did not sign");
		goto out;
	}
	vctx = EVP_PKEY_CTX_new(pub, NULL);
	if (vctx == NULL || EVP_PKEY_verify_init(vctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(vctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_verify(vctx, sig, len, md, 32) != 1) {
		r = cer_err_ssl(CER_E_VERIFY, "the card's signature does not verify with its public "
					      "key; nothing written");
		goto out;
	}
	*sig_len = len;
out:
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_CTX_free(vctx);
	return r;
}

int witness_countersign(struct ceremony_ctx *ctx, const char *token, const char *label,
			const char *role, const char *transcript, FILE *out)
{
	struct hsm h;
	struct hsmkey *hk = NULL;
	struct p11key k;
	char seal[PATH_MAX], path[PATH_MAX], *text = NULL;
	struct p11key_public pub;
	uint8_t md[SHA256_LEN], sig[COUNTERSIG_SIG_MAX];
	size_t sig_len = sizeof(sig);
	int r;

	memset(&h, 0, sizeof(h));
	memset(&pub, 0, sizeof(pub));
	if ((r = countersig_role_check(role)) != 0 ||
	    (r = countersig_path(transcript, role, path, sizeof(path))) != 0)
		return r;
	if (snprintf(seal, sizeof(seal), "%s.sig", transcript) >= (int)sizeof(seal))
		return cer_err(CER_E_INPUT, "%s: path too long", transcript);
	if (!file_exists(seal))
		return cer_err(CER_E_REFUSED,
			       "%s is not sealed (no %s): witnesses countersign after the seal; "
			       "nothing signed",
			       transcript, seal);
	if ((r = file_check_new(path)) != 0)
		return r;
	/* Countersign only an intact chain; the digest is of the exact sealed bytes. */
	if ((r = transcript_each(transcript, NULL, NULL)) != 0) {
		cer_err_prefix("refusing to countersign: ");
		return r;
	}
	if ((r = file_sha256(transcript, md)) != 0)
		return r;
	if ((r = hsm_open(ctx, token, &h)) != 0 || (r = hsm_login_user(ctx, &h)) != 0 ||
	    (r = p11key_find(h.session, label, &k)) != 0 ||
	    (r = p11key_public_read(h.session, &k, &pub)) != 0)
		goto out;
	if (k.type != KEY_EC_P256) {
		r = cer_err(CER_E_REFUSED, "card \"%s\": key \"%s\" is %s; a witness key is ec-p256",
			    h.token.label, label, key_type_name(k.type));
		goto out;
	}
	if ((r = hsmkey_open(h.session, &k, &hk)) != 0 ||
	    (r = witness_sign(hsmkey_pkey(hk), pub.pkey, md, sig, &sig_len)) != 0)
		goto out;
	if ((r = countersig_encode(transcript, md, role, pub.spki_sha256, sig, sig_len, &text)) != 0 ||
	    (r = file_write_new(path, text, strlen(text))) != 0)
		goto out;
	fprintf(out, "Countersigned %s as %s with key \"%s\" on card \"%s\": %s\n", transcript,
		role, label, h.token.label, path);
	readaloud_print(out, "transcript sha256", md, 32);
	readaloud_print(out, "signer SPKI sha256", pub.spki_sha256, sizeof(pub.spki_sha256));
out:
	free(text);
	p11key_public_free(&pub);
	hsm_session_end(&h);
	hsmkey_free(hk);
	hsm_close(&h);
	return r;
}

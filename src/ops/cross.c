/* cross: cross and link certificates between two roots (see include/ceremony/cross.h). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "ceremony/approve.h"
#include "ceremony/certbuild.h"
#include "ceremony/certinfo.h"
#include "ceremony/cross.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/history.h"
#include "ceremony/hsm.h"
#include "ceremony/hsmkey.h"
#include "ceremony/keytype.h"
#include "ceremony/p11key.h"
#include "ceremony/pem.h"
#include "ceremony/profile.h"
#include "ceremony/readaloud.h"
#include "ceremony/rerun.h"
#include "ceremony/serials.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"

/* A self-signed CA certificate: what a root certificate is. */
static int is_root_cert(X509 *x, const char *path)
{
	EVP_PKEY *k = X509_get0_pubkey(x);

	if (k == NULL || X509_check_issued(x, x) != X509_V_OK || X509_verify(x, k) != 1 ||
	    X509_check_ca(x) != 1)
		return cer_err(CER_E_INPUT, "%s: not a self-signed CA certificate (a root)", path);
	return 0;
}

/* The root profile makes self-signed certificates, which carry no AKI; a cross certificate
 * is not self-signed, so RFC 5280 4.2.1.1 wants the issuer's key identifier. */
static int add_aki(X509 *x, X509 *issuer)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_authority_key_identifier, "keyid:always");
	ok = ext != NULL && X509_get_ext_by_NID(x, NID_authority_key_identifier, -1) < 0 &&
	     X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : cer_err_ssl(CER_E_CRYPTO, "cannot add the authority key identifier");
}

/* A serial the history never used, drawn from the HSM. */
static int fresh_serial(struct hsm *h, const struct history *hist, ASN1_INTEGER **out)
{
	struct serials_draw d;
	uint8_t rnd[CERTBUILD_SERIAL_LEN];
	char hex[SERIAL_HEX_SIZE];
	int r;

	memset(&d, 0, sizeof(d));
	if ((r = serials_next(h->session, hist, &d, rnd, hex)) == 0)
		r = certbuild_serial(rnd, out);
	serials_draw_end(&d);
	return r;
}

/* Fix the TBS's signature algorithm as the HSM key will write it: sign once with a
 * throwaway key of the same type and digest (the HSM's signature replaces it). */
static int tbs_finalise(X509 *x, enum key_type t, const EVP_MD *md)
{
	const struct key_type_info *ki = key_type_info(t);
	EVP_PKEY *tmp = ki->is_ec ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", ki->curve_name)
				  : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)ki->bits);
	int ok = tmp != NULL && X509_sign(x, tmp, md) > 0;

	EVP_PKEY_free(tmp);
	return ok ? 0 : cer_err_ssl(CER_E_CRYPTO, "cannot fix the TBS certificate");
}

/* A cross certificate is a CA certificate by the root: the issue-ca rule of the quorum. */
static int cross_approve(struct ceremony_ctx *ctx, struct transcript *tr,
			 const struct cross_params *p, const struct history *hist, X509 *x,
			 X509 *issuer, FILE *out, uint8_t tbs[SHA256_LEN])
{
	struct approve_request rq;
	struct approve_item item;
	/* Whole names (no buffer to cut them): the quorum approves what it reads. */
	char *subject = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0);
	char *by = X509_NAME_oneline(X509_get_subject_name(issuer), NULL, 0);
	int approved = 0, r;

	memset(&rq, 0, sizeof(rq));
	memset(&item, 0, sizeof(item));
	memcpy(item.tbs_sha256, tbs, SHA256_LEN);
	if (subject == NULL || by == NULL)
		r = cer_err(CER_E_NOMEM, "out of memory");
	else
		r = text_format(item.what, sizeof(item.what), "the approval's text",
				"cross certificate for %s by %s (root rollover)", subject, by);
	OPENSSL_free(subject);
	OPENSSL_free(by);
	if (r != 0)
		return r;
	rq.op = QOP_ISSUE_CA;
	rq.n_items = 1;
	rq.items = &item;
	rq.history_dir = p->history_dir;
	rq.history = hist; /* read once: the quorum walk takes its facts */
	rq.has_profile = 1;
	if ((r = file_sha256(p->profile, rq.profile_sha256)) != 0)
		return r;
	return approve_collect(ctx, tr, &rq, &p->approve, out, &approved);
}

int cross_sign(struct ceremony_ctx *ctx, const struct cross_params *p, FILE *out)
{
	struct hsm h;
	struct hsmkey *hk = NULL;
	struct transcript *tr = NULL;
	struct history *hist = NULL;
	struct profile prof;
	struct p11key k;
	X509 *issuer = NULL, *subject = NULL, *x = NULL, *found = NULL;
	ASN1_INTEGER *serial = NULL;
	uint8_t *pem = NULL, fp[SHA256_LEN], issuer_spki[SHA256_LEN], subject_spki[SHA256_LEN],
		tbs[SHA256_LEN], signed_tbs[SHA256_LEN];
	size_t pem_len = 0;
	json_t *ins = NULL, *outs = NULL, *details;
	const char *tpath;
	int r;

	memset(&h, 0, sizeof(h));
	/* Every input and the output before the PIN is asked. */
	if ((r = ctx_transcript_path(ctx, "cert cross", &tpath)) != 0 ||
	    (r = profile_load(p->profile, &prof)) != 0)
		return r;
	if (prof.kind != PROFILE_ROOT)
		return cer_err(CER_E_REFUSED, "%s: profile \"%s\" is a %s profile, not a root profile",
			       p->profile, prof.name, profile_kind_name(prof.kind));
	if ((r = pem_load_cert(p->issuer_cert, &issuer)) != 0 ||
	    (r = pem_load_cert(p->subject_cert, &subject)) != 0 ||
	    (r = is_root_cert(issuer, p->issuer_cert)) != 0 ||
	    (r = is_root_cert(subject, p->subject_cert)) != 0)
		goto out;
	if (EVP_PKEY_eq(X509_get0_pubkey(issuer), X509_get0_pubkey(subject)) == 1) {
		r = cer_err(CER_E_REFUSED, "%s and %s certify the same key: a cross certificate links "
					   "two different roots",
			    p->issuer_cert, p->subject_cert);
		goto out;
	}
	if ((r = certinfo_spki_sha256(X509_get0_pubkey(issuer), issuer_spki)) != 0 ||
	    (r = certinfo_spki_sha256(X509_get0_pubkey(subject), subject_spki)) != 0 ||
	    (r = rerun_output(p->out_path, &found)) != 0 ||
	    (r = history_load_beside(tpath, p->history_dir, &hist)) != 0)
		goto out;
	if (found != NULL) { /* a certificate a killed run wrote and did not record */
		struct rerun_expect e = {X509_get0_pubkey(issuer), X509_get_subject_name(issuer),
					 X509_get_subject_name(subject), X509_get0_pubkey(subject),
					 "cross certificate"};
		if ((r = rerun_match(found, p->out_path, &e, hist)) != 0)
			goto out;
	}
	if ((r = ctx_transcript_open(ctx, "cert cross", &tr)) != 0)
		goto out;
	if ((r = hsm_open(ctx, p->token, &h)) != 0 || (r = hsm_login_user(ctx, &h)) != 0 ||
	    (r = p11key_find_signer(h.session, p->key, &k, NULL)) != 0 ||
	    (r = hsmkey_open(h.session, &k, &hk)) != 0)
		goto out;
	if ((r = hsmkey_cert_check(hk, issuer, p->issuer_cert, "nothing was signed")) != 0)
		goto out;
	if (found != NULL) {
		x = found;
		found = NULL;
		goto record;
	}
	if ((r = fresh_serial(&h, hist, &serial)) != 0 ||
	    (r = certbuild_new(&prof, X509_get_subject_name(subject), X509_get0_pubkey(subject),
			       issuer, serial, NULL, 0, &x)) != 0 ||
	    (r = add_aki(x, issuer)) != 0)
		goto out;
	/* The quorum approves these exact bytes before the HSM signs them (docs/quorum.md). */
	if ((r = tbs_finalise(x, k.type, hsmkey_digest(k.type))) != 0 || (r = certinfo_tbs_sha256(x, tbs)) != 0 ||
	    (r = cross_approve(ctx, tr, p, hist, x, issuer, out, tbs)) != 0)
		goto out;
	/* Signed in the HSM, verified with the issuer certificate's key before it is written. */
	if ((r = certbuild_sign(x, hsmkey_pkey(hk), hsmkey_digest(k.type), X509_get0_pubkey(issuer))) != 0 ||
	    (r = certinfo_tbs_sha256(x, signed_tbs)) != 0)
		goto out;
	if (CRYPTO_memcmp(tbs, signed_tbs, SHA256_LEN) != 0) {
		r = cer_err(CER_E_INTERNAL, "the HSM signed other bytes than the ones approved; "
					    "nothing was written");
		goto out;
	}
	if (X509_check_issued(issuer, x) != X509_V_OK ||
	    ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(x), X509_get0_subject_key_id(subject)) != 0) {
		r = cer_err(CER_E_INTERNAL, "the cross certificate does not chain as built; nothing "
					    "was written");
		goto out;
	}
	if ((r = pem_encode_cert(x, &pem, &pem_len)) != 0 ||
	    (r = file_write_public(p->out_path, pem, pem_len)) != 0)
		goto out;
record:
	if ((r = certbuild_fingerprint(x, fp)) != 0)
		goto out;
	if ((r = transcript_files(tr, &ins, p->profile, p->issuer_cert, p->subject_cert,
				  NULL)) != 0 ||
	    (r = transcript_files(tr, &outs, p->out_path, NULL)) != 0)
		goto out;
	{
		char ih[SHA256_HEX_SIZE], sh[SHA256_HEX_SIZE];
		hex_encode(issuer_spki, SHA256_LEN, ih);
		hex_encode(subject_spki, SHA256_LEN, sh);
		details = json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}", "key", p->key, "token_serial",
				    h.token.serial, "issuer_spki_sha256", ih, "subject_spki_sha256", sh,
				    "old_root_may_issue", p->old_root_may_issue, "certificate",
				    certinfo_json(x, prof.name));
		if (details != NULL && pem == NULL)
			json_object_set_new(details, "recorded_after_interruption", json_true());
		r = transcript_append(tr, "cert.cross", ins, outs, details, NULL);
	}
	ins = outs = NULL;
	if (r != 0)
		goto out;
	if (pem == NULL)
		fprintf(out, "Cross certificate found at %s: an interrupted run wrote it and did not "
			     "record it; recorded now (nothing was signed)\n",
			p->out_path);
	else
		fprintf(out, "Cross certificate written to %s: \"%s\" certifies the key of \"%s\"\n",
			p->out_path, p->key, p->subject_cert);
	readaloud_print(out, "sha256", fp, 32);
	readaloud_print(out, "subject SPKI sha256", subject_spki, 32);
out:
	json_decref(ins);
	json_decref(outs);
	free(pem);
	ASN1_INTEGER_free(serial);
	X509_free(x);
	X509_free(found);
	X509_free(issuer);
	X509_free(subject);
	history_free(hist);
	hsm_session_end(&h);
	hsmkey_free(hk);
	hsm_close(&h);
	transcript_close(tr);
	return r;
}

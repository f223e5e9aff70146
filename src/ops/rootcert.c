/* rootcert: the root certificate, signed by the root key in the HSM. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony/certbuild.h"
#include "ceremony/certinfo.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/history.h"
#include "ceremony/hsm.h"
#include "ceremony/hsmkey.h"
#include "ceremony/lint.h"
#include "ceremony/p11key.h"
#include "ceremony/pem.h"
#include "ceremony/profile.h"
#include "ceremony/readaloud.h"
#include "ceremony/rerun.h"
#include "ceremony/rootcert.h"
#include "ceremony/sizes.h"
#include "ceremony/transcript.h"

int rootcert_create(struct ceremony_ctx *ctx, const char *token, const char *key,
		    const char *profile, const char *subject, const char *out_path, FILE *out)
{
	struct hsm h;
	struct hsmkey *hk = NULL;
	struct transcript *tr = NULL;
	struct history *hist = NULL;
	struct profile prof;
	struct p11key k;
	X509_NAME *name = NULL;
	X509 *x = NULL, *found = NULL;
	ASN1_INTEGER *serial = NULL;
	struct p11key_public pub;
	uint8_t *pem = NULL, fp[SHA256_LEN], rnd[CERTBUILD_SERIAL_LEN];
	size_t pem_len = 0;
	json_t *in = NULL, *outs = NULL, *details;
	const char *tpath;
	int r;

	memset(&h, 0, sizeof(h));
	memset(&pub, 0, sizeof(pub));
	/* STYLE 9: every input and the output path before the first login. */
	if ((r = ctx_transcript_path(ctx, "cert root", &tpath)) != 0)
		return r;
	if ((r = profile_load(profile, &prof)) != 0)
		return r;
	if (prof.kind != PROFILE_ROOT)
		return cer_err(CER_E_REFUSED, "%s: profile \"%s\" is a %s profile, not a root profile",
			       profile, prof.name, profile_kind_name(prof.kind));
	if ((r = certbuild_name_parse(subject, 1, &name)) != 0)
		return r;
	/* A certificate a killed run wrote and did not record is found, not overwritten. */
	if ((r = rerun_output(out_path, &found)) != 0 ||
	    (found != NULL && (r = history_load_beside(tpath, NULL, &hist)) != 0))
		goto out;
	if ((r = ctx_transcript_open(ctx, "cert root", &tr)) != 0)
		goto out;
	if ((r = hsm_open(ctx, token, &h)) != 0 || (r = hsm_login_user(ctx, &h)) != 0)
		goto out;
	if ((r = p11key_find_signer(h.session, key, &k, NULL)) != 0)
		goto out;
	if ((r = profile_check_key_type(&prof, k.type)) != 0)
		goto out;
	if ((r = p11key_public_read(h.session, &k, &pub)) != 0)
		goto out;
	if (found != NULL) {
		struct rerun_expect e = {pub.pkey, name, name, pub.pkey, "root certificate"};
		struct lint_input li;
		memset(&li, 0, sizeof(li));
		li.cert = found;
		li.profile = &prof;
		li.expected_key = pub.pkey;
		/* Ours, unrecorded, and what this profile makes: recorded as it is. */
		if ((r = rerun_match(found, out_path, &e, hist)) != 0 || (r = lint_cert(&li)) != 0)
			goto out;
		x = found;
		found = NULL;
	} else {
		if ((r = p11_random_mixed(h.session, rnd, sizeof(rnd))) != 0 ||
		    (r = certbuild_serial(rnd, &serial)) != 0)
			goto out;
		if ((r = certbuild_new(&prof, name, pub.pkey, NULL, serial, NULL, 0, &x)) != 0)
			goto out;
		if ((r = hsmkey_open(h.session, &k, &hk)) != 0)
			goto out;
		/* Signed in the HSM, checked with the token's public key object before writing. */
		if ((r = certbuild_sign(x, hsmkey_pkey(hk), hsmkey_digest(k.type), pub.pkey)) != 0 ||
		    (r = pem_encode_cert(x, &pem, &pem_len)) != 0 ||
		    (r = file_write_public(out_path, pem, pem_len)) != 0)
			goto out;
	}
	if ((r = certbuild_fingerprint(x, fp)) != 0)
		goto out;
	if ((r = transcript_files(tr, &in, profile, NULL)) != 0 ||
	    (r = transcript_files(tr, &outs, out_path, NULL)) != 0)
		goto out;
	details = json_pack("{s:s, s:s, s:o}", "key", key, "token_serial", h.token.serial,
			    "certificate", certinfo_json(x, prof.name));
	if (details != NULL && hist != NULL)
		json_object_set_new(details, "recorded_after_interruption", json_true());
	r = transcript_append(tr, "cert.root", in, outs, details, NULL);
	in = outs = NULL;
	if (r != 0)
		goto out;
	if (hist != NULL)
		fprintf(out, "Root certificate found at %s: an interrupted run wrote it and did not "
			     "record it; recorded now (nothing was signed)\n",
			out_path);
	else
		fprintf(out, "Root certificate written to %s\n", out_path);
	readaloud_print(out, "sha256", fp, 32);
	readaloud_print(out, "SPKI sha256", pub.spki_sha256, sizeof(pub.spki_sha256));
out:
	json_decref(in);
	json_decref(outs);
	free(pem);
	p11key_public_free(&pub);
	ASN1_INTEGER_free(serial);
	X509_free(x);
	X509_free(found);
	history_free(hist);
	X509_NAME_free(name);
	hsm_session_end(&h);
	hsmkey_free(hk);
	hsm_close(&h);
	transcript_close(tr);
	return r;
}

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
#include "ceremony/hsm.h"
#include "ceremony/hsmkey.h"
#include "ceremony/p11key.h"
#include "ceremony/pem.h"
#include "ceremony/profile.h"
#include "ceremony/readaloud.h"
#include "ceremony/rootcert.h"
#include "ceremony/sizes.h"
#include "ceremony/transcript.h"

int rootcert_create(struct ceremony_ctx *ctx, const char *token, const char *key,
		    const char *profile, const char *subject, const char *out_path, FILE *out)
{
	struct hsm h;
	struct hsmkey *hk = NULL;
	struct transcript *tr = NULL;
	struct profile prof;
	struct p11key k;
	X509_NAME *name = NULL;
	X509 *x = NULL;
	ASN1_INTEGER *serial = NULL;
	struct p11key_public pub;
	uint8_t *pem = NULL, fp[SHA256_LEN], rnd[CERTBUILD_SERIAL_LEN];
	size_t pem_len = 0;
	json_t *in = NULL, *outs = NULL;
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
	if ((r = file_check_new(out_path)) != 0)
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
	if ((r = p11_random_mixed(h.session, rnd, sizeof(rnd))) != 0 ||
	    (r = certbuild_serial(rnd, &serial)) != 0)
		goto out;
	if ((r = certbuild_new(&prof, name, pub.pkey, NULL, serial, NULL, 0, &x)) != 0)
		goto out;
	if ((r = hsmkey_open(h.session, &k, &hk)) != 0)
		goto out;
	/* Signed in the HSM, checked with the token's public key object before writing. */
	if ((r = certbuild_sign(x, hsmkey_pkey(hk), hsmkey_digest(k.type), pub.pkey)) != 0)
		goto out;
	if ((r = certbuild_fingerprint(x, fp)) != 0)
		goto out;
	if ((r = pem_encode_cert(x, &pem, &pem_len)) != 0)
		goto out;
	if ((r = file_write_public(out_path, pem, pem_len)) != 0)
		goto out;
	if ((r = transcript_files(tr, &in, profile, NULL)) != 0 ||
	    (r = transcript_files(tr, &outs, out_path, NULL)) != 0)
		goto out;
	r = transcript_append(tr, "cert.root", in, outs,
			      json_pack("{s:s, s:s, s:o}", "key", key, "token_serial", h.token.serial,
					"certificate", certinfo_json(x, prof.name)),
			      NULL);
	in = outs = NULL;
	if (r != 0)
		goto out;
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
	X509_NAME_free(name);
	hsm_session_end(&h);
	hsmkey_free(hk);
	hsm_close(&h);
	transcript_close(tr);
	return r;
}

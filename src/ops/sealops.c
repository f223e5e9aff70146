/* sealops: sealing a transcript with the ceremony-signing key in the HSM. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony/archive.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/hsm.h"
#include "ceremony/hsmkey.h"
#include "ceremony/p11key.h"
#include "ceremony/pem.h"
#include "ceremony/readaloud.h"
#include "ceremony/sealops.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"

struct find_root {
	char path[PATH_MAX];
	int outside;
};

static int find_root_cb(void *arg, long line, json_t *rec)
{
	struct find_root *fr = arg;
	const char *action = json_string_value(json_object_get(rec, "action"));
	json_t *o = json_array_get(json_object_get(rec, "outputs"), 0);
	const char *p = json_string_value(json_object_get(o, "path"));

	(void)line;
	if (action != NULL && strcmp(action, "cert.signer") == 0 && p != NULL) {
		fr->outside = json_is_true(json_object_get(o, "outside_archive"));
		return text_copy(fr->path, sizeof(fr->path), "the recorded certificate path", p);
	}
	return 0;
}

int sealops_transcript_seal(struct ceremony_ctx *ctx, const char *token, const char *key,
			    const char *cert_path, const char *transcript, FILE *out)
{
	struct hsm h;
	struct hsmkey *hk = NULL;
	struct p11key k;
	struct find_root fr;
	char full[PATH_MAX], sig[PATH_MAX];
	X509 *cert = NULL;
	uint8_t md[SHA256_LEN];
	int r;

	memset(&h, 0, sizeof(h));
	memset(&fr, 0, sizeof(fr));
	if (snprintf(sig, sizeof(sig), "%s.sig", transcript) >= (int)sizeof(sig))
		return cer_err(CER_E_INPUT, "transcript path too long");
	if ((r = file_check_new(sig)) != 0)
		return r;
	if (cert_path == NULL) {
		if ((r = transcript_each(transcript, find_root_cb, &fr)) != 0)
			return r;
		if (fr.path[0] == '\0')
			return cer_err(CER_E_USAGE, "%s records no ceremony-signing certificate "
						    "(cert.signer); give --cert FILE",
				       transcript);
		if ((r = archive_resolve(NULL, transcript, 0, fr.path, fr.outside, full)) != 0) {
			if (fr.outside)
				cer_err_prefix("give --cert FILE: ");
			return r;
		}
		cert_path = full;
	}
	if ((r = pem_load_cert(cert_path, &cert)) != 0)
		return r;
	if ((r = hsm_open(ctx, token, &h)) != 0 || (r = hsm_login_user(ctx, &h)) != 0 ||
	    (r = p11key_find_signer(h.session, key, &k, NULL)) != 0 ||
	    (r = hsmkey_open(h.session, &k, &hk)) != 0)
		goto out;
	if ((r = hsmkey_cert_check(hk, cert, cert_path, "nothing sealed")) != 0)
		goto out;
	if ((r = transcript_seal(transcript, hsmkey_pkey(hk), cert)) != 0)
		goto out;
	if ((r = file_sha256(transcript, md)) != 0)
		goto out;
	fprintf(out, "Sealed %s with key \"%s\": %s\n", transcript, key, sig);
	readaloud_print(out, "sha256", md, 32);
out:
	hsm_session_end(&h);
	hsmkey_free(hk);
	hsm_close(&h);
	X509_free(cert);
	return r;
}

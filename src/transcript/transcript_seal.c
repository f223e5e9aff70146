#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "ceremony/cms.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/sizes.h"
#include "ceremony/transcript.h"
#include "transcript_int.h"

#define SEAL_MAX_BYTES (1024 * 1024)

int transcript_seal(const char *path, EVP_PKEY *key, X509 *cert)
{
	char sig[PATH_MAX];
	uint8_t *data = NULL, *der = NULL;
	size_t len = 0, der_len = 0;
	int r;

	if (snprintf(sig, sizeof(sig), "%s.sig", path) >= (int)sizeof(sig))
		return cer_err(CER_E_INPUT, "transcript path too long");
	if ((r = file_check_new(sig)) != 0)
		return r;
	/* Seal only an intact chain. */
	if ((r = transcript_each(path, NULL, NULL)) != 0) {
		cer_err_prefix("refusing to seal: ");
		return r;
	}
	if ((r = file_read_all(path, TRANSCRIPT_MAX_BYTES, &data, &len)) != 0)
		return r;
	if ((r = cms_sign_detached(key, cert, data, len, &der, &der_len)) != 0)
		cer_err_prefix("%s: ", path);
	else
		r = file_write_new(sig, der, der_len);
	OPENSSL_free(der);
	free(data);
	return r;
}

static int spki_hex_of(X509 *cert, char out[SHA256_HEX_SIZE])
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(X509_get0_pubkey(cert), &der);

	if (n <= 0)
		return cer_err_ssl(CER_E_CRYPTO, "cannot encode the signer's public key");
	transcript_sha256_hex(der, (size_t)n, out);
	OPENSSL_free(der);
	return 0;
}

int transcript_seal_verify_der(const uint8_t *der, size_t der_len, const uint8_t *data,
			       size_t len, X509 *trusted, int partial_chain)
{
	return cms_verify_detached(der, der_len, data, len, trusted, partial_chain);
}

int transcript_seal_verify(const char *path, const uint8_t *data, size_t len, X509 *root,
			   const char *const *spki_hex, size_t n_spki, char *signer,
			   size_t signer_size)
{
	char sig[PATH_MAX], hex[SHA256_HEX_SIZE];
	uint8_t *der = NULL;
	size_t der_len = 0;
	const unsigned char *p;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(X509) *certs = NULL;
	X509 *cert = NULL;
	int r, known = 0;

	if (snprintf(sig, sizeof(sig), "%s.sig", path) >= (int)sizeof(sig))
		return cer_err(CER_E_INPUT, "transcript path too long");
	if ((r = file_read_all(sig, SEAL_MAX_BYTES, &der, &der_len)) != 0)
		return r;
	p = der;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)der_len);
	if (cms == NULL || p != der + der_len) {
		r = cer_err_ssl(CER_E_VERIFY, "%s: not a DER CMS structure", sig);
		goto out;
	}
	certs = CMS_get1_certs(cms);
	if (certs == NULL || sk_X509_num(certs) != 1) {
		r = cer_err(CER_E_VERIFY, "%s: expected exactly one signer certificate", sig);
		goto out;
	}
	cert = sk_X509_value(certs, 0);
	if (X509_NAME_oneline(X509_get_subject_name(cert), signer, (int)signer_size) == NULL)
		signer[0] = '\0';
	if (root == NULL) {
		/* No root given: the signer must be a key this transcript generated or recorded,
		 * and all that proves is that the transcript agrees with itself (unanchored). */
		if ((r = spki_hex_of(cert, hex)) != 0)
			goto out;
		for (size_t i = 0; i < n_spki; i++)
			known |= strcmp(hex, spki_hex[i]) == 0;
		if (!known) {
			r = cer_err(CER_E_VERIFY,
				    "%s: the seal's signer (%s) is not a key recorded in the "
				    "transcript; give --root",
				    sig, signer);
			goto out;
		}
	}
	/* With a root: the signer's certificate must chain to it (a ceremony-signing
	 * certificate the root issued), with OpenSSL's default CMS purpose checks. */
	r = transcript_seal_verify_der(der, der_len, data, len, root != NULL ? root : cert,
				       root == NULL);
	if (r != 0)
		cer_err_prefix("%s: seal by %s: ", sig, signer);
out:
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	free(der);
	return r;
}

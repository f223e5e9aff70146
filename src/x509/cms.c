#include <openssl/cms.h>
#include <openssl/err.h>

#include "ceremony/cms.h"
#include "ceremony/err.h"

int cms_sign_detached(EVP_PKEY *key, X509 *cert, const uint8_t *data, size_t len, uint8_t **der,
		      size_t *der_len)
{
	BIO *in = BIO_new_mem_buf(data, (int)len);
	CMS_ContentInfo *cms = NULL;
	unsigned char *out = NULL;
	int n, r;

	*der = NULL;
	*der_len = 0;
	if (in == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	cms = CMS_sign(cert, key, NULL, in, CMS_DETACHED | CMS_BINARY);
	if (cms == NULL) {
		r = cer_err_ssl(CER_E_CRYPTO, "the HSM key could not make the CMS signature");
		goto out;
	}
	n = i2d_CMS_ContentInfo(cms, &out);
	if (n <= 0) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot encode the CMS signature");
		goto out;
	}
	/* Check the signature before anyone writes it. */
	if ((r = cms_verify_detached(out, (size_t)n, data, len, cert)) != 0) {
		OPENSSL_free(out);
		goto out;
	}
	*der = out;
	*der_len = (size_t)n;
	r = 0;
out:
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return r;
}

int cms_verify_detached(const uint8_t *der, size_t der_len, const uint8_t *data, size_t len,
			X509 *trusted)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = NULL;
	X509_STORE *store = NULL;
	BIO *in = NULL;
	int r;

	cms = d2i_CMS_ContentInfo(NULL, &p, (long)der_len);
	if (cms == NULL || p != der + der_len) {
		r = cer_err_ssl(CER_E_VERIFY, "not a DER CMS structure");
		goto out;
	}
	in = BIO_new_mem_buf(data, (int)len);
	store = X509_STORE_new();
	if (in == NULL || store == NULL || !X509_STORE_add_cert(store, trusted)) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	X509_STORE_set_purpose(store, X509_PURPOSE_ANY);
	if (CMS_verify(cms, NULL, store, in, NULL, CMS_DETACHED | CMS_BINARY) <= 0) {
		r = cer_err_ssl(CER_E_VERIFY, "the CMS signature does not verify");
		goto out;
	}
	r = 0;
out:
	X509_STORE_free(store);
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	return r;
}

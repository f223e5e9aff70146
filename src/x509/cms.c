#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ceremony/cms.h"
#include "ceremony/err.h"

/* RFC 9336: id-kp-documentSigning. */
#define CMS_OID_DOCUMENT_SIGNING "1.3.6.1.5.5.7.3.36"

const EVP_MD *cms_digest_for(EVP_PKEY *key)
{
	/* RFC 5480 §4 / RFC 5753: P-384 with SHA-384, P-256 with SHA-256; P-521 with SHA-512. */
	if (EVP_PKEY_is_a(key, "EC")) {
		int bits = EVP_PKEY_get_bits(key);
		return bits > 384 ? EVP_sha512() : bits > 256 ? EVP_sha384() : EVP_sha256();
	}
	return EVP_sha256(); /* RSA-3072/4096: SHA-256 (NIST SP 800-57 security strength 128) */
}

int cms_signer_check(X509 *cert)
{
	EXTENDED_KEY_USAGE *eku = NULL;
	int doc = 0, r;

	if (X509_check_ca(cert) != 0)
		return cer_err(CER_E_VERIFY, "the signer's certificate is a CA certificate; seals are "
					     "made by the ceremony-signing key, never by a CA key");
	if ((X509_get_extension_flags(cert) & EXFLAG_KUSAGE) == 0 ||
	    (X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE) == 0)
		return cer_err(CER_E_VERIFY, "the signer's certificate does not allow "
					     "digitalSignature");
	eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
	for (int i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
		char oid[64];
		if (OBJ_obj2txt(oid, sizeof(oid), sk_ASN1_OBJECT_value(eku, i), 1) > 0 &&
		    strcmp(oid, CMS_OID_DOCUMENT_SIGNING) == 0)
			doc = 1;
	}
	r = doc ? 0
		: cer_err(CER_E_VERIFY, "the signer's certificate lacks the extended key usage "
					"id-kp-documentSigning (%s, RFC 9336)",
			  CMS_OID_DOCUMENT_SIGNING);
	EXTENDED_KEY_USAGE_free(eku);
	return r;
}

int cms_sign_detached(EVP_PKEY *key, X509 *cert, const uint8_t *data, size_t len, uint8_t **der,
		      size_t *der_len)
{
	/* No SMIMECapabilities: a seal offers no ciphers to anyone (CMS_NOSMIMECAP). */
	const unsigned int flags = CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP | CMS_PARTIAL;
	BIO *in = BIO_new_mem_buf(data, (int)len);
	CMS_ContentInfo *cms = NULL;
	unsigned char *out = NULL;
	int n, r;

	*der = NULL;
	*der_len = 0;
	if (in == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if ((r = cms_signer_check(cert)) != 0)
		goto out;
	cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	if (cms == NULL ||
	    CMS_add1_signer(cms, cert, key, cms_digest_for(key), flags) == NULL ||
	    CMS_final(cms, in, NULL, flags) <= 0) {
		r = cer_err_ssl(CER_E_CRYPTO, "the HSM key could not make the CMS signature");
		goto out;
	}
	n = i2d_CMS_ContentInfo(cms, &out);
	if (n <= 0) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot encode the CMS signature");
		goto out;
	}
	/* Check the signature and the signer's purpose before anyone writes it; its chain to the
	 * root is the verifier's (transcript verify, audit, openssl cms -verify -CAfile root.pem). */
	if ((r = cms_verify_detached(out, (size_t)n, data, len, cert, 1)) != 0) {
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
			X509 *trusted, int partial_chain)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(X509) *signers = NULL;
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
	/* No X509_STORE_set_purpose: CMS_verify's default (S/MIME signing) purpose checks the
	 * signer's keyUsage and extended key usage, exactly as `openssl cms -verify` does. */
	if (partial_chain)
		X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	if (CMS_verify(cms, NULL, store, in, NULL, CMS_DETACHED | CMS_BINARY) <= 0) {
		r = cer_err_ssl(CER_E_VERIFY, "the CMS signature does not verify");
		goto out;
	}
	signers = CMS_get0_signers(cms);
	if (signers == NULL || sk_X509_num(signers) != 1) {
		r = cer_err(CER_E_VERIFY, "expected exactly one signer");
		goto out;
	}
	r = cms_signer_check(sk_X509_value(signers, 0));
out:
	sk_X509_free(signers);
	X509_STORE_free(store);
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	return r;
}

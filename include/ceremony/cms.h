/*
 * cms — detached CMS signatures (DER) over bytes, as `openssl cms -verify` checks them.
 *
 * Owns: signing with the ceremony-signing key and its certificate (CMS_BINARY,
 * the certificate included, the digest matched to the key, no SMIMECapabilities),
 * checking the result before anything is written, and verifying with OpenSSL's
 * default (S/MIME signing) purpose against one trust anchor: the signer must be
 * an end-entity certificate with keyUsage digitalSignature and the extended key
 * usage id-kp-documentSigning (RFC 9336), never a CA. Used by the transcript seal
 * and the media manifest. Does not own: where the bytes or the signature live.
 */
#ifndef CEREMONY_CMS_H
#define CEREMONY_CMS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* The digest that goes with key: SHA-384 for P-384, SHA-256 for P-256 and RSA. */
const EVP_MD *cms_digest_for(EVP_PKEY *key);

/* CER_E_VERIFY unless cert may seal: not a CA, digitalSignature, EKU documentSigning. */
int cms_signer_check(X509 *cert) __attribute__((warn_unused_result));

/* Sign, then verify the result (signature and purpose). *der is OPENSSL_malloc'd. */
int cms_sign_detached(EVP_PKEY *key, X509 *cert, const uint8_t *data, size_t len, uint8_t **der,
		      size_t *der_len) __attribute__((warn_unused_result));
/*
 * CER_E_VERIFY unless der is a detached signature over data by a ceremony-signing
 * certificate that chains to trusted. partial_chain: trusted may be the signer's own
 * certificate (an unanchored check).
 */
int cms_verify_detached(const uint8_t *der, size_t der_len, const uint8_t *data, size_t len,
			X509 *trusted, int partial_chain) __attribute__((warn_unused_result));

#endif

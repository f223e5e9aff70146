/*
 * cms — detached CMS signatures (DER) over bytes, as `openssl cms -verify` checks them.
 *
 * Owns: signing with an HSM key and its certificate (CMS_BINARY, the
 * certificate included), checking the result before anything is written, and
 * verifying against one trusted certificate. Used by the transcript seal and
 * the media manifest. Does not own: where the bytes or the signature live.
 */
#ifndef CEREMONY_CMS_H
#define CEREMONY_CMS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* *der is OPENSSL_malloc'd. */
int cms_sign_detached(EVP_PKEY *key, X509 *cert, const uint8_t *data, size_t len, uint8_t **der,
		      size_t *der_len) __attribute__((warn_unused_result));
/* CER_E_VERIFY unless der is a detached signature over data by trusted's key, chaining to it. */
int cms_verify_detached(const uint8_t *der, size_t der_len, const uint8_t *data, size_t len,
			X509 *trusted) __attribute__((warn_unused_result));

#endif

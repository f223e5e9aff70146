/*
 * docsign — a detached CMS signature by an HSM key over bytes the tool wrote.
 *
 * Owns: opening the token, logging in (the PIN is asked here), finding the key,
 * checking the certificate is that key's, and signing. Does not own: what is
 * signed (media manifests, kits: the callers build the bytes), the CMS format
 * (cms), or recording (the callers).
 */
#ifndef CEREMONY_DOCSIGN_H
#define CEREMONY_DOCSIGN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "ceremony/context.h"

/* *der (OPENSSL_free) is the DER CMS SignedData, detached, over data; cert_name names
 * cert in errors. */
int docsign_detached(struct ceremony_ctx *ctx, const char *token, const char *key, X509 *cert,
		     const char *cert_name, const uint8_t *data, size_t len, uint8_t **der,
		     size_t *der_len)
	__attribute__((warn_unused_result));

#endif

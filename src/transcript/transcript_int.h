/* Shared between transcript.c, transcript_verify.c and transcript_seal.c; not a public API. */
#ifndef CEREMONY_TRANSCRIPT_INT_H
#define CEREMONY_TRANSCRIPT_INT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "ceremony/sizes.h"

void transcript_sha256_hex(const uint8_t *data, size_t len, char out[SHA256_HEX_SIZE]);
int transcript_dir_of(const char *path, char out[PATH_MAX]);
/* hex SHA-256 of the last line of a chain-verified transcript */
int transcript_last_hash(const char *path, char out[SHA256_HEX_SIZE]);
/* transcript_each and transcript_last_hash in one read. */
int transcript_each_last(const char *path, int (*fn)(void *arg, long line, json_t *rec), void *arg,
			 char last[SHA256_HEX_SIZE]);
/* Verify path.sig; fills signer (subject) and checks it against root or the recorded keys. */
int transcript_seal_verify(const char *path, const uint8_t *data, size_t len, X509 *root,
			   const char *const *spki_hex, size_t n_spki, char *signer,
			   size_t signer_size);

/* Verify a detached DER CMS over data with trusted as the only anchor (see cms.h). */
int transcript_seal_verify_der(const uint8_t *der, size_t der_len, const uint8_t *data,
			       size_t len, X509 *trusted, int partial_chain);

#endif

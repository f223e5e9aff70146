/*
 * signer — the ceremony-signing key and its certificate, made at root key generation.
 *
 * Owns: the signer's subject, profile check and validity clamp, and what
 * cert.signer records. Does not own: certificate building (certbuild), PKCS#11
 * (p11key, hsm), sealing itself (sealops, mediasign).
 */
#ifndef CEREMONY_SIGNER_H
#define CEREMONY_SIGNER_H

#include <stdio.h>

#include "ceremony/context.h"

struct signer_opts {
	const char *token, *root_key; /* the root HSM and the root key's label */
	const char *issuer;           /* root.pem */
	const char *profile;          /* a ceremony-signing profile */
	const char *label;            /* the new key's label */
	const char *subject;          /* NULL: the root's subject, CN + " Ceremony Signing" */
	const char *out_path;
	const char *waive;            /* "CKA_X,CKA_Y" or "none" or NULL: what the module cannot honour */
};
/*
 * The ceremony-signing key: generated in the root's token (never extractable),
 * certified by the root under the profile (CA:FALSE, digitalSignature,
 * documentSigning), linted, written to out_path, recorded as cert.signer. It, not
 * the root key, seals transcripts and media manifests. On a failure after the key
 * exists, the key is destroyed and the message says so (or that it may remain).
 */
int signer_create(struct ceremony_ctx *ctx, const struct signer_opts *o,
		  FILE *out) __attribute__((warn_unused_result));

#endif

/*
 * rootcert — the root certificate: built from a root profile, signed by the root
 * key in the HSM, checked with the token's public key, written, recorded as cert.root.
 *
 * Owns: the order (every input and the output path before the first login) and
 * what cert.root records. Does not own: certificate building (certbuild), the
 * profile format (profile), PKCS#11 (hsm, hsmkey).
 */
#ifndef CEREMONY_ROOTCERT_H
#define CEREMONY_ROOTCERT_H

#include <stdio.h>

#include "ceremony/context.h"

int rootcert_create(struct ceremony_ctx *ctx, const char *token, const char *key,
		    const char *profile, const char *subject, const char *out_path, FILE *out)
	__attribute__((warn_unused_result));

#endif

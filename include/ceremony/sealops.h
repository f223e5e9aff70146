/*
 * sealops — sealing a transcript: a detached CMS signature by the
 * ceremony-signing key in the HSM (docs/seal.md).
 *
 * Owns: finding the signer's certificate the transcript records, checking it is
 * the key's, and the order of the step. Does not own: the seal's format
 * (transcript_seal, cms), PKCS#11 (hsm, hsmkey).
 */
#ifndef CEREMONY_SEALOPS_H
#define CEREMONY_SEALOPS_H

#include <stdio.h>

#include "ceremony/context.h"

/* cert_path NULL: the ceremony-signing certificate recorded by the transcript's cert.signer record. */
int sealops_transcript_seal(struct ceremony_ctx *ctx, const char *token, const char *key,
			    const char *cert_path, const char *transcript, FILE *out)
	__attribute__((warn_unused_result));

#endif

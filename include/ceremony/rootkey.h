/*
 * rootkey — the root key: generated in the HSM with its evidence recorded, and shown.
 *
 * Owns: the order of each step (validate every input first, then log in, act,
 * check the result, record the transcript record, and only then report
 * success) and what key.generate records. Does not own: PKCS#11 details (p11,
 * p11key), the transcript format (transcript).
 */
#ifndef CEREMONY_ROOTKEY_H
#define CEREMONY_ROOTKEY_H

#include <stdio.h>

#include "ceremony/context.h"
#include "ceremony/p11key.h"

int rootkey_generate(struct ceremony_ctx *ctx, const char *token, const char *label,
		     const char *type, enum p11key_policy policy, unsigned waivers, FILE *out)
	__attribute__((warn_unused_result));
int rootkey_show(struct ceremony_ctx *ctx, const char *token, const char *label, FILE *out)
	__attribute__((warn_unused_result));

#endif

/*
 * rootops — the root's own steps: root key, root certificate, seal, verify.
 *
 * Owns: the order of each step (validate every input and output path first,
 * then log in, act, check the result, write outputs atomically, record the
 * transcript record, and only then report success) and what each step
 * records. Does not own: PKCS#11 details (p11, p11key), certificate building
 * (certbuild), the transcript format (transcript).
 */
#ifndef CEREMONY_ROOTOPS_H
#define CEREMONY_ROOTOPS_H

#include <stdio.h>

#include "ceremony/context.h"
#include "ceremony/p11key.h"

int rootops_key_generate(struct ceremony_ctx *ctx, const char *token, const char *label,
			 const char *type, enum p11key_policy policy, unsigned waivers, FILE *out)
	__attribute__((warn_unused_result));
int rootops_key_show(struct ceremony_ctx *ctx, const char *token, const char *label, FILE *out)
	__attribute__((warn_unused_result));
int rootops_cert_root(struct ceremony_ctx *ctx, const char *token, const char *key,
		      const char *profile, const char *subject, const char *out_path, FILE *out)
	__attribute__((warn_unused_result));
/* cert_path NULL: the root certificate recorded by the transcript's cert.root record. */
int rootops_transcript_seal(struct ceremony_ctx *ctx, const char *token, const char *key,
			    const char *cert_path, const char *transcript, FILE *out)
	__attribute__((warn_unused_result));
/* FILE.sig: a detached CMS signature over FILE by the HSM key (cert: its certificate). */
int rootops_sign_file(struct ceremony_ctx *ctx, const char *token, const char *key,
		      const char *cert_path, const char *path, FILE *out)
	__attribute__((warn_unused_result));
/*
 * registry: a folder of transcripts whose registered witness keys are accepted too (or NULL).
 * A backup sealed at the test Argon2id cost fails the verdict unless test_cost_allowed names
 * what allowed it (--allow-test-cost, or CEREMONY_TEST_ARGON2=1 in the verifier's environment).
 */
int rootops_transcript_verify(const char *transcript, const char *root_path, int allow_unsealed,
			      const char *test_cost_allowed, const char *registry, FILE *out)
	__attribute__((warn_unused_result));

#endif

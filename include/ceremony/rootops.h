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

#include <jansson.h>

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
struct rootops_signer_opts {
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
int rootops_signer_create(struct ceremony_ctx *ctx, const struct rootops_signer_opts *o,
			  FILE *out) __attribute__((warn_unused_result));
/* The key evidence as the transcript records it. */
json_t *rootops_evidence_json(const struct p11key_evidence *ev);
/* cert_path NULL: the root certificate recorded by the transcript's cert.root record. */
int rootops_transcript_seal(struct ceremony_ctx *ctx, const char *token, const char *key,
			    const char *cert_path, const char *transcript, FILE *out)
	__attribute__((warn_unused_result));
/*
 * MEDIUM/MANIFEST.sha256 (+ .sig): the files this ceremony wrote to the medium (those
 * differing from the transcript's media.manifest record of it), the text built by the
 * tool now and signed by the ceremony-signing key. A MANIFEST.sha256 already there is
 * signed only if it is byte for byte that text; anything else is refused.
 */
int rootops_media_sign(struct ceremony_ctx *ctx, const char *token, const char *key,
		       const char *cert_path, const char *medium, FILE *out)
	__attribute__((warn_unused_result));
/*
 * registry: a folder of transcripts whose registered witness keys are accepted too (or NULL).
 * flags: TRANSCRIPT_ALLOW_UNSEALED, TRANSCRIPT_ALLOW_UNANCHORED. A backup sealed at the test
 * Argon2id cost fails the verdict unless test_cost_allowed names what allowed it
 * (--allow-test-cost, or CEREMONY_TEST_ARGON2=1 in the verifier's environment).
 */
int rootops_transcript_verify(const char *transcript, const char *root_path, unsigned flags,
			      const char *test_cost_allowed, const char *registry, FILE *out)
	__attribute__((warn_unused_result));

#endif

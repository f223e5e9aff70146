/*
 * witness — a witness's or Key Executive's signing key on their own card, and
 * their countersignature of a sealed transcript.
 *
 * Owns: the witness key template (EC P-256; TOKEN, PRIVATE, SENSITIVE, SIGN
 * TRUE; EXTRACTABLE, DECRYPT, UNWRAP, DERIVE, SIGN_RECOVER FALSE; a random
 * CKA_ID), generating it or reading an existing one, the witness.register
 * record, and signing a sealed transcript's SHA-256 with the card. Does not
 * own: the countersignature file format and its checking (countersig), the root
 * key's template (p11key).
 */
#ifndef CEREMONY_WITNESS_H
#define CEREMONY_WITNESS_H

#include <stdio.h>

#include "ceremony/context.h"

/*
 * Generate (or find) the witness key label on card token, and record
 * witness.register {role, name, card, key, evidence, spki, spki_sha256} in
 * ctx's transcript. waive: the attributes the card's module cannot honour
 * ("CKA_DECRYPT", comma-separated, "none" or NULL for none), as key generate's.
 */
struct approve_opts;
/* ao: the quorum's approvers when a policy is in force (officer-register; approve.h). */
int witness_register(struct ceremony_ctx *ctx, const char *token, const char *label,
		     const char *role, const char *name, const char *waive,
		     const struct approve_opts *ao, FILE *out)
	__attribute__((warn_unused_result));

/* Sign the sealed transcript with card key label; write TRANSCRIPT.countersig-ROLE. */
int witness_countersign(struct ceremony_ctx *ctx, const char *token, const char *label,
			const char *role, const char *transcript, FILE *out)
	__attribute__((warn_unused_result));

#endif

/*
 * cross — cross and link certificates for a root rollover (RFC 4210 §4.4).
 *
 * Owns: `cert cross`: a certificate by the issuing root's HSM key for another
 * root's subject and public key (old-with-new: the old root certifies the new
 * root's key; new-with-old: the new root certifies the old key), under the root
 * profile, with the subject root's own SKI, a serial the history never used,
 * verified before it is written, and the cert.cross record. Does not own: the
 * roots themselves (rootkey, rootcert), checking them later (replay, audit).
 */
#ifndef CEREMONY_CROSS_H
#define CEREMONY_CROSS_H

#include <stdio.h>

#include "ceremony/approve.h"
#include "ceremony/context.h"

struct cross_params {
	const char *token, *key;  /* the issuing root's key */
	const char *issuer_cert;  /* its self-signed certificate */
	const char *subject_cert; /* the other root's self-signed certificate */
	const char *profile;      /* a root profile */
	const char *out_path;
	const char *history_dir;  /* NULL: the transcript's folder */
	int old_root_may_issue;   /* recorded: the old root may still issue after the rollover */
	struct approve_opts approve; /* the quorum approves the exact TBS (issue-ca) */
};

int cross_sign(struct ceremony_ctx *ctx, const struct cross_params *p, FILE *out)
	__attribute__((warn_unused_result));

#endif

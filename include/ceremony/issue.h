/*
 * issue — signing intermediate CA and end-entity certificates from CSRs.
 *
 * Owns: the whole issuance step: check every request and output path first
 * (CSR checks, profile, subject rules, serials and keys unique across the CA's
 * history), build each certificate, lint it signed with a throwaway key under
 * a shadow of the issuer, then log in once, sign in the HSM, verify the
 * signature with the issuer's key and that the signed TBS is the linted one,
 * write the certificate and its chain atomically, and record each issuance
 * (and each refusal) in the transcript. Does not own: CSR parsing (csr),
 * building (certbuild), rules (lint), history (history).
 */
#ifndef CEREMONY_ISSUE_H
#define CEREMONY_ISSUE_H

#include <stdio.h>

#include "ceremony/approve.h"
#include "ceremony/context.h"
#include "ceremony/profile.h"

#define ISSUE_MAX_BATCH 256

struct issue_opts {
	const char *token, *key, *issuer, *profile;
	const char *csr, *out;         /* one request */
	const char *csr_dir, *out_dir; /* a batch */
	const char *history_dir;       /* default: the transcript's folder */
	int n_policies;
	char policies[PROFILE_MAX_OIDS][PROFILE_OID_MAX];
	struct approve_opts approve; /* the quorum's approvers (approve.h) */
};

int issue_sign(struct ceremony_ctx *ctx, const struct issue_opts *o, FILE *out)
	__attribute__((warn_unused_result));

/* "X.pem" -> "X-chain.pem" (and "X" -> "X-chain.pem"). */
int issue_chain_path(const char *cert_path, char *out, size_t size)
	__attribute__((warn_unused_result));

#endif

/*
 * crl — the root's certificate revocation list (ARL).
 *
 * Owns: building a v2 CRL with authorityKeyIdentifier and a CRL number one
 * above every number the CA's history holds, listing every revocation the
 * history records plus the new ones (each with its own reasonCode: a CA
 * certificate's always, from the reasons BR 7.2.2 allows; serials the history
 * issued only, unless told and recorded), nextUpdate at
 * most 12 months out (CA/B BR 4.9.7), signed in the HSM and verified with the
 * root's key before it is written; and the transcript record. Does not own:
 * the history (history), the HSM (hsm, hsmkey).
 */
#ifndef CEREMONY_CRL_H
#define CEREMONY_CRL_H

#include <stdio.h>

#include <openssl/x509.h>

#include "ceremony/approve.h"
#include "ceremony/context.h"
#include "ceremony/sizes.h"

#define CRL_MAX_REVOKE 64
#define CRL_MAX_NEXT_UPDATE_DAYS 365

struct crl_opts {
	const char *token, *key, *issuer, *out;
	const char *history_dir; /* default: the transcript's folder */
	long next_update_days;
	int n_revoke;
	const char *revoke[CRL_MAX_REVOKE]; /* serials in hex */
	const char *reason[CRL_MAX_REVOKE]; /* revoke[i]'s own reason (its --reason) */
	int allow_unknown_serial; /* revoke serials the history never issued (recorded) */
	int reason_misplaced;	  /* a --reason not right after its --revoke */
	struct approve_opts approve;        /* the quorum's approvers (approve.h) */
};

/*
 * The quorum's approval of the CRL's final TBSCertList, before the HSM signs
 * (crl_quorum.c): its SHA-256 in tbs, recorded with the approvals. And after
 * the HSM signed: the signed TBS must be that one.
 */
struct transcript;
struct history;
/* h: the history this call loaded (its facts spare the quorum walk a second read). */
int crl_quorum(struct ceremony_ctx *ctx, struct transcript *tr, const struct crl_opts *o,
	       const struct history *h, X509 *issuer, X509_CRL *crl, FILE *out,
	       unsigned char tbs[SHA256_LEN])
	__attribute__((warn_unused_result));
int crl_quorum_signed(X509_CRL *crl, const unsigned char tbs[SHA256_LEN])
	__attribute__((warn_unused_result));

int crl_sign(struct ceremony_ctx *ctx, const struct crl_opts *o, FILE *out)
	__attribute__((warn_unused_result));

#endif

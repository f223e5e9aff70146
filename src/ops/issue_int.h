/* Shared by issue.c and issue_build.c; not a public API. */
#ifndef CEREMONY_ISSUE_INT_H
#define CEREMONY_ISSUE_INT_H

#include <limits.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "ceremony/csr.h"
#include "ceremony/issue.h"
#include "ceremony/profile.h"
#include "ceremony/subject.h"

struct issue_item {
	char csr_path[PATH_MAX];
	char out_path[PATH_MAX];
	char chain_path[PATH_MAX];
	struct csr *csr;
	X509 *cert;   /* built, unsigned until the HSM signs it */
	X509 *linted; /* the same, signed by the throwaway key */
	uint8_t spki[32];
	char reason[512]; /* why it was refused, if it was */
};

/* A throwaway key of the issuer's type and the issuer's certificate re-signed with it. */
struct issue_shadow {
	EVP_PKEY *key;
	X509 *issuer;
	const EVP_MD *md;
};

const EVP_MD *issue_digest_for(EVP_PKEY *issuer_key);
int issue_shadow_new(X509 *issuer, struct issue_shadow *sh);
void issue_shadow_free(struct issue_shadow *sh);
struct history;
int issue_lint(struct issue_item *it, X509 *issuer, const struct issue_shadow *sh,
	       const struct profile *p, char (*policies)[PROFILE_OID_MAX], int n_policies,
	       const struct history *h);

/*
 * The hook between building and signing (issue_quorum.c): every item's final
 * TBS exists; collect and record the quorum's approvals of exactly those
 * bytes, or refuse before the HSM signs anything.
 */
struct transcript;
int issue_quorum(struct ceremony_ctx *ctx, struct transcript *tr, const struct issue_opts *o,
		 const struct profile *p, struct issue_item *items, size_t n, FILE *out)
	__attribute__((warn_unused_result));

#endif

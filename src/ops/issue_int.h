/* Shared by issue.c, issue_sign.c and issue_build.c; not a public API. */
#ifndef CEREMONY_ISSUE_INT_H
#define CEREMONY_ISSUE_INT_H

#include <limits.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "ceremony/certsig.h"
#include "ceremony/certbuild.h"
#include "ceremony/csr.h"
#include "ceremony/err.h"
#include "ceremony/history.h"
#include "ceremony/issue.h"
#include "ceremony/profile.h"
#include "ceremony/sizes.h"
#include "ceremony/subject.h"
#include "ceremony/transcript.h"

enum issue_state {
	ITEM_NEW,         /* to be signed */
	ITEM_ISSUED,      /* signed, written and recorded by this call */
	ITEM_DONE_BEFORE, /* a rerun: issued and recorded by an earlier call */
	ITEM_UNRECORDED,  /* a rerun: signed and written by a call that stopped before recording */
};

/* One request; what stays in memory between the checks and the signature is small. */
struct issue_item {
	char *csr_path, *out_path, *chain_path; /* malloc'd */
	const char *name;                       /* the request's file name, in csr_path */
	const struct issue_pin *pin;            /* NULL: not pinned */
	uint8_t csr_sha256[SHA256_LEN];                 /* of the bytes that were checked */
	uint8_t spki[SHA256_LEN];
	uint8_t serial[CERTBUILD_SERIAL_LEN];
	char serial_hex[41];
	char subject[256]; /* the certificate's, one line, for the quorum's statement */
	uint8_t *tbs; /* the final TBS: linted, with the issuer's signature algorithm */
	size_t tbs_len;
	X509 *found; /* ITEM_DONE_BEFORE / ITEM_UNRECORDED: the certificate already there */
	enum issue_state state;
	char reason[CER_ERR_DETAIL_SIZE]; /* why it was refused, if it was: the whole detail */
	uint8_t *ca_subject; /* a CA profile: the subject's DER, for the batch's name check */
	size_t ca_subject_len;
};

/* A throwaway P-256 key and the issuer's certificate re-signed with it (once per call). */
struct issue_shadow {
	EVP_PKEY *key;
	X509 *issuer;
};

struct issue_run {
	const struct issue_opts *o;
	struct profile profile;
	X509 *issuer;
	struct history *history;
	struct lint_name_der *cas; /* the history's CA subjects, hashed once */
	size_t n_cas;
	struct transcript *tr;
	const char *transcript_path;
	struct issue_item *items;
	size_t n_items, cap_items;
	struct issue_shadow shadow;
	const EVP_MD *md;
	struct certsig_key *sigkey; /* the issuer's key, decoded once: the post-sign check */
	uint8_t *alg; /* DER AlgorithmIdentifier of the issuer's signatures */
	int alg_len;
	json_t *profile_entry, *issuer_entry; /* transcript file entries, hashed once */
	uint8_t *issuer_pem; /* encoded once, for every X-chain.pem */
	size_t issuer_pem_len;
	size_t n_issued, n_before, n_unrecorded;
};

const EVP_MD *issue_digest_for(EVP_PKEY *issuer_key);
int issue_shadow_new(X509 *issuer, struct issue_shadow *sh);
void issue_shadow_free(struct issue_shadow *sh);
int issue_final_alg(EVP_PKEY *issuer_key, const EVP_MD *md, uint8_t **der, int *len);
/* Lint cert (signing it with the shadow key) and give the final TBS to sign; cas:
 * every CA subject in the history (issue_history_cas). */
struct lint_name_der;
int issue_lint(X509 *cert, const char *name, EVP_PKEY *expected_key, X509 *issuer,
	       const struct issue_shadow *sh, const struct profile *p,
	       char (*policies)[PROFILE_OID_MAX], int n_policies, const uint8_t *alg,
	       size_t alg_len, uint8_t **tbs, size_t *tbs_len, const struct lint_name_der *cas,
	       size_t n_cas);
/* Every CA subject the history holds, hashed, for lint_input.other_cas (free the
 * array only; it points into the history). */
int issue_history_cas(const struct history *h, struct lint_name_der **out);
/* DER Certificate ::= SEQUENCE { tbs, algorithm, BIT STRING signature } */
int issue_assemble(const uint8_t *tbs, size_t tbs_len, const uint8_t *alg, size_t alg_len,
		   const uint8_t *sig, size_t sig_len, uint8_t **out, size_t *out_len);

/*
 * The hook between building and signing (issue_quorum.c): every new item's final
 * TBS exists; collect and record the quorum's approvals of exactly those bytes,
 * or refuse before the HSM signs anything.
 */
int issue_quorum(struct ceremony_ctx *ctx, struct issue_run *run, FILE *out)
	__attribute__((warn_unused_result));

/* issue_sign.c: log in, sign every checked item, write, record, a group at a time. */
struct hsm;
int issue_sign_all(struct issue_run *run, struct ceremony_ctx *ctx, struct hsm *h, FILE *out);
/* The item's certificate as already on disk (X.pem, else the first of X-chain.pem), or NULL. */
int issue_found_cert(const struct issue_item *it, X509 **out);


#endif

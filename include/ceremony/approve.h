/*
 * approve — collecting the quorum's approvals from officers' cards before the root key signs.
 *
 * Owns: reading the history's quorum (policy, officers), refusing a list of
 * approvers that cannot meet the policy before any card is touched, showing
 * what is approved (operation, each item, the TBS SHA-256 in PGP words, the
 * ceremony and record position), then person by person: the officer's card,
 * its PIN, the approval statement signed on the card; checking the set against
 * the registered keys and the policy; and recording it (quorum.approve).
 * Also the quorum commands' operations: fixing the policy, changing it,
 * retiring an officer. Does not own: the statement format and the checks
 * (quorum), building what is approved (issue, crl, backup).
 */
#ifndef CEREMONY_APPROVE_H
#define CEREMONY_APPROVE_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ceremony/context.h"
#include "ceremony/quorum.h"
#include "ceremony/sizes.h"

struct transcript;

struct approve_opts {
	const char *approvers;   /* "KE1,KE2": roles, in the order they approve; NULL: none */
	const char *pin_sources; /* "file:A,file:B", one per approver; NULL: asked on the terminal */
};

struct approve_item {
	uint8_t tbs_sha256[SHA256_LEN];
	int has_csr;
	uint8_t csr_sha256[SHA256_LEN];
	char what[512]; /* read aloud: "certificate for CN=..., serial ..." */
};

struct approve_request {
	enum quorum_op op;
	size_t n_items;
	const struct approve_item *items;
	int has_profile;
	uint8_t profile_sha256[SHA256_LEN];
	const char *history_dir; /* NULL: the transcript's folder */
	/* That folder's history as the caller loaded it in this call (NULL: none): the
	 * quorum walk takes its sealed transcripts' facts rather than reading them again. */
	const struct history *history;
	/*
	 * Non-NULL: the approvals go into the operation's own record (backups):
	 * *defer gets {"operation", "tbs_sha256", "items", ..., "approvals"} with
	 * position = the next record's seq, and nothing (no refusal either) is
	 * recorded here; the caller appends it as details.quorum of that record.
	 */
	json_t **defer;
};

/*
 * Collect, check and record approvals of rq in tr. Without a quorum policy in
 * the history, nothing is asked or recorded (and out says so); *approved tells
 * whether approvals were recorded.
 */
int approve_collect(struct ceremony_ctx *ctx, struct transcript *tr,
		    const struct approve_request *rq, const struct approve_opts *ao, FILE *out,
		    int *approved) __attribute__((warn_unused_result));

/*
 * Before an operation touches the HSM: would these approvers meet the policy in
 * force? (Nothing is asked, touched or recorded.)
 */
int approve_precheck(struct ceremony_ctx *ctx, enum quorum_op op, const char *history_dir,
		     const struct approve_opts *ao) __attribute__((warn_unused_result));

/* ceremony quorum policy: fix the policy (first time) or change it (the current quorum approves). */
int approve_policy_set(struct ceremony_ctx *ctx, const char *policy_path, const char *history_dir,
		       const struct approve_opts *ao, FILE *out) __attribute__((warn_unused_result));

/*
 * witness register: once a policy is in force, the quorum approves a new
 * officer's key (officer-register, over its SPKI SHA-256) before it is recorded.
 */
int approve_officer_register(struct ceremony_ctx *ctx, struct transcript *tr, const char *role,
			     const char *name, const char *card,
			     const uint8_t spki_sha256[SHA256_LEN], const struct approve_opts *ao,
			     FILE *out) __attribute__((warn_unused_result));

/* ceremony quorum retire: the quorum approves retiring ROLE's key (officer-retire). */
int approve_retire(struct ceremony_ctx *ctx, const char *role, const char *history_dir,
		   const struct approve_opts *ao, FILE *out) __attribute__((warn_unused_result));

/* ceremony quorum show: the policy in force and the officers, from the history. */
int approve_show(struct ceremony_ctx *ctx, const char *history_dir, FILE *out)
	__attribute__((warn_unused_result));

#endif

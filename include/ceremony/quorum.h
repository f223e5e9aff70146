/*
 * quorum — who must approve each use of the root key, and checking that they did.
 *
 * Owns: the quorum policy (per operation, how many approvals from which role
 * classes; fixed at root key generation, changed only with the current
 * quorum's approval), its canonical form and SHA-256; the officers' registry as
 * the records build it (witness.register adds, quorum.retire retires); the
 * approval statement (canonical JSON signed with ECDSA P-256 / SHA-256 by an
 * officer's card, docs/quorum.md); checking a set of approvals against the
 * registry and the policy; and walking a history's records in order, checking
 * that every certificate, CRL, backup and policy operation after the policy
 * carries approvals of its own bytes (from the certificate's or CRL's TBS).
 * Does not own: collecting approvals from cards (approve), the chain and seal
 * of transcripts (transcript), ordering a history (audit).
 */
#ifndef CEREMONY_QUORUM_H
#define CEREMONY_QUORUM_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ceremony/sizes.h"

struct history; /* ceremony/history.h */

#define QUORUM_STATEMENT_FORMAT "ceremony-approval-v1"
#define QUORUM_POLICY_FORMAT "ceremony-quorum-policy-v1"
#define QUORUM_POLICY_MAX_BYTES (16 * 1024)
#define QUORUM_MAX_CLAUSES 4
#define QUORUM_MAX_APPROVALS 16
#define QUORUM_MAX_ITEMS 256
#define QUORUM_ROLE_MAX 32
#define QUORUM_NAME_MAX 128
#define QUORUM_SIG_MAX 80 /* DER ECDSA-Sig-Value for P-256 */
#define QUORUM_WHERE_MAX (NAME_MAX + 32)

enum quorum_op {
	QOP_ISSUE_CA,
	QOP_ISSUE_EE,
	QOP_CRL_SIGN,
	QOP_BACKUP_CREATE,
	QOP_BACKUP_REKEY,
	QOP_BACKUP_RECOVER,
	QOP_OFFICER_REGISTER,
	QOP_OFFICER_RETIRE,
	QOP_POLICY_CHANGE,
	QOP_COUNT
};

/* "issue-ca", "issue-ee", "crl-sign", "backup-create", ... */
const char *quorum_op_name(enum quorum_op op);
int quorum_op_parse(const char *name, enum quorum_op *out) __attribute__((warn_unused_result));

struct quorum_clause {
	char role[QUORUM_ROLE_MAX + 1]; /* a role ("IW") or a class ("KE" matches KE1, KE2, ...) */
	int need;
};

struct quorum_rule {
	int n;
	struct quorum_clause c[QUORUM_MAX_CLAUSES];
};

struct quorum_policy {
	struct quorum_rule rules[QOP_COUNT];
	uint8_t sha256[SHA256_LEN]; /* of the canonical JSON */
};

/*
 * From a parsed document (YAML or JSON, scalars may be strings):
 *   operations: {issue-ca: [{role: KE, approvals: 2}], ...}
 * Every operation must be listed; each needs at least one approval.
 */
int quorum_policy_from_json(const char *name, json_t *doc, struct quorum_policy *out)
	__attribute__((warn_unused_result));
int quorum_policy_load(const char *path, struct quorum_policy *out)
	__attribute__((warn_unused_result));
/* The canonical JSON object {"format":..., "operations": {...}} (new reference). */
json_t *quorum_policy_json(const struct quorum_policy *p);
/* "2 of KE" / "2 of KE and 1 of IW" */
void quorum_rule_text(const struct quorum_rule *r, char *out, size_t size);
/* Does role (KE1) belong to clause role or class (KE)? */
int quorum_role_matches(const char *role, const char *cls);

struct quorum_officer {
	char role[QUORUM_ROLE_MAX + 1];
	char name[QUORUM_NAME_MAX + 1];
	uint8_t spki_sha256[SHA256_LEN];
	EVP_PKEY *key;
	char card_label[TOKEN_LABEL_LEN + 1], card_serial[TOKEN_SERIAL_LEN + 1],
	    key_label[LABEL_SIZE];
	char where[QUORUM_WHERE_MAX]; /* "FILE line N" */
	char retired[QUORUM_WHERE_MAX]; /* where it was retired, "" if active */
	int unapproved; /* registered while a policy was in force, without its approval */
};

/* What one approval set is about: the exact bytes and where it sits. */
struct quorum_subject {
	enum quorum_op op;
	size_t n_items;
	uint8_t tbs_sha256[SHA256_LEN];     /* one item's, or over the sorted list */
	int has_csr;
	uint8_t csr_sha256[SHA256_LEN];     /* one item's, or over the sorted list */
	int has_profile;
	uint8_t profile_sha256[SHA256_LEN];
	char ceremony[128];
	long position;              /* seq of the quorum.approve record */
};

/* SHA-256 over the concatenation of the sorted hashes; a single hash is itself. */
void quorum_combine(const uint8_t (*hashes)[SHA256_LEN], size_t n, uint8_t out[SHA256_LEN]);

/* The statement an approver's card signs (malloc'd, canonical compact JSON, no newline). */
int quorum_statement(const struct quorum_subject *s, const char *role,
		     const uint8_t signer_spki_sha256[SHA256_LEN], char **out)
	__attribute__((warn_unused_result));

struct quorum_state {
	struct quorum_officer *officers;
	size_t n_officers;
	int has_policy;
	struct quorum_policy policy;
	char policy_where[QUORUM_WHERE_MAX];
	/* the transcript being walked */
	char file[NAME_MAX + 1];
	const char *path;
	int root_here; /* this transcript made the root certificate */
	json_t *approved; /* [{op, items:[{tbs, csr}], profile, where}] in this transcript */
	/* counts over the walk */
	long approvals_sets, approved_ops, unchecked_ops;
	char approvers_seen[256];
};

void quorum_state_init(struct quorum_state *st);
void quorum_state_free(struct quorum_state *st);
/* Begin walking a transcript (resets what this transcript approved). */
int quorum_state_begin(struct quorum_state *st, const char *path)
	__attribute__((warn_unused_result));
/* transcript_each callback: one record, in order. A quorum fault is the error. */
int quorum_state_record(void *arg, long line, json_t *rec) __attribute__((warn_unused_result));

/*
 * For audit and transcript verify: walk one transcript (after those before it)
 * and print a line on its approvals to out (may be NULL) when it had any.
 */
int quorum_check_transcript(struct quorum_state *st, const char *path, FILE *out)
	__attribute__((warn_unused_result));
/*
 * For transcript verify: the ceremonies before this one (back along
 * ceremony.begin's previous links, as far as they are present), then this one.
 */
int quorum_verify_transcript(const char *transcript, FILE *out)
	__attribute__((warn_unused_result));
/* The history's summary: the policy, what was approved, by whom, what could not be checked. */
void quorum_report(const struct quorum_state *st, FILE *out);

/* The active officer registered under role; NULL if none. */
const struct quorum_officer *quorum_officer_by_role(const struct quorum_state *st,
						    const char *role);

/*
 * Check approvals [{role, name, signer_spki_sha256, statement, signature}] for
 * s against st: each statement is exactly the one for s, by an active officer
 * registered (and approved) before, under that role, with a valid signature;
 * distinct keys and people; the policy's rule for s->op met. The first fault
 * names the approval.
 */
int quorum_approvals_check(const struct quorum_state *st, const struct quorum_subject *s,
			   json_t *approvals) __attribute__((warn_unused_result));

/* Do these officers meet the rule? Each counts once, for the first clause it fits that needs one. */
int quorum_rule_check(const struct quorum_rule *rule, const struct quorum_officer *const *signers,
		      size_t n, enum quorum_op op) __attribute__((warn_unused_result));

/*
 * Walk every transcript of dir (ordered by their first record's time) and then
 * current (if it exists and is not in dir) into st. For a signing command.
 */
int quorum_state_load(struct quorum_state *st, const char *dir, const char *current)
	__attribute__((warn_unused_result));
/*
 * The same, taking what the caller's history_load of the same folder already found
 * (known, may be NULL): a sealed transcript's first record's time and marks come from
 * there, so the call reads it once. Any other transcript is read here, as above.
 */
int quorum_state_load_known(struct quorum_state *st, const char *dir, const char *current,
			    const struct history *known) __attribute__((warn_unused_result));

#endif

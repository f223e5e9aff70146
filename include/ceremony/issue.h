/*
 * issue — signing intermediate CA and end-entity certificates from CSRs.
 *
 * Owns: the whole issuance step: check every request, pin and output path
 * first (CSR checks, the pinned key and subject, profile, subject rules,
 * serials and keys unique across the CA's history), build each certificate and
 * lint it signed with a throwaway Ed25519 key under a shadow of the issuer, so
 * the final TBS of every certificate exists before the first login; then log
 * in once, have the HSM sign exactly those TBS bytes, verify each signature
 * with the issuer's key, write X-chain.pem then X.pem, and record each
 * issuance (and each refusal) in the transcript, a group at a time: the group's
 * files are made durable, then its records, then it is reported. A rerun of a
 * stopped batch skips what was issued and records what was signed but not yet
 * recorded. Does not own: CSR parsing (csr),
 * building (certbuild), rules (lint), history (history).
 */
#ifndef CEREMONY_ISSUE_H
#define CEREMONY_ISSUE_H

#include <stdio.h>

#include "ceremony/approve.h"
#include "ceremony/context.h"
#include "ceremony/profile.h"

#include <limits.h>
#include <stdint.h>

#include "ceremony/certbuild.h"
#include "ceremony/sizes.h"

#define ISSUE_MAX_PINS 4096 /* --expect-* values and lines of an --expect-file */

/*
 * What the people agreed on before the day for one request (issue 16): the SHA-256
 * of its SubjectPublicKeyInfo and its subject, "/C=DE/O=.../CN=...". name is the
 * request's file name in a batch ("" for the one request of --csr).
 */
struct issue_pin {
	char name[NAME_MAX + 1];
	int has_spki, has_subject;
	uint8_t spki[SHA256_LEN];
	char subject[CERTBUILD_DN_MAX];
};

struct issue_opts {
	const char *token, *key, *issuer, *profile;
	const char *csr, *out;         /* one request */
	const char *csr_dir, *out_dir; /* a batch, of any size */
	const char *history_dir;       /* default: the transcript's folder */
	int n_policies;
	char policies[PROFILE_MAX_OIDS][PROFILE_OID_MAX];
	struct approve_opts approve; /* the quorum's approvers (approve.h) */
	const char *expect_file; /* lines of "csr-name spki-sha256-hex subject" */
	size_t n_pins;
	struct issue_pin *pins; /* from --expect-spki / --expect-subject */
};

/*
 * Add "--expect-spki [NAME:]HEX" (is_subject 0) or "--expect-subject [NAME:]DN"
 * (a DN starts with '/') to o->pins (malloc'd; the caller frees o->pins).
 */
int issue_pin_add(struct issue_opts *o, const char *arg, int is_subject)
	__attribute__((warn_unused_result));

/*
 * The request at path is exactly the pinned one: CER_E_REFUSED naming both keys
 * in PGP words, or both subjects, when not (the runner's first check).
 */
int issue_request_check(const char *path, const struct issue_pin *pin)
	__attribute__((warn_unused_result));

int issue_sign(struct ceremony_ctx *ctx, const struct issue_opts *o, FILE *out)
	__attribute__((warn_unused_result));

/* "X.pem" -> "X-chain.pem" (and "X" -> "X-chain.pem"). */
int issue_chain_path(const char *cert_path, char *out, size_t size)
	__attribute__((warn_unused_result));

#endif

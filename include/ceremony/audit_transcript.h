/*
 * audit_transcript — the verdict on one transcript, offline (no HSM): its hash
 * chain and seal (transcript), what it issued replayed (replay), its
 * countersignatures (countersig), its quorum approvals (quorum) and the Argon2id
 * cost of its backups.
 *
 * Owns: the order of the checks and the verdict's words. Does not own: any of
 * the checks; the whole history (audit).
 */
#ifndef CEREMONY_AUDIT_TRANSCRIPT_H
#define CEREMONY_AUDIT_TRANSCRIPT_H

#include <stdio.h>

#include "ceremony/archive.h"

/*
 * view: where the recorded files are (NULL or empty: the default layout, archive.h).
 * registry: a folder of transcripts whose registered witness keys are accepted too (or NULL).
 * flags: TRANSCRIPT_ALLOW_UNSEALED, TRANSCRIPT_ALLOW_UNANCHORED. A backup sealed at the test
 * Argon2id cost fails the verdict unless test_cost_allowed names what allowed it
 * (--allow-test-cost, or ceremony.yaml's argon2_cost: test in a step of ceremony run).
 */
int audit_transcript_verify(const char *transcript, const struct archive_view *view,
			    const char *root_path, unsigned flags,
			    const char *test_cost_allowed, const char *registry, FILE *out)
	__attribute__((warn_unused_result));

#endif

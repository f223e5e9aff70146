/*
 * audit — a root's whole life replayed from its folder of transcripts, offline.
 *
 * Owns: ordering the transcripts into one chain by their ceremony.begin
 * "previous" links (a missing link, a fork, a renamed or reordered file, or a
 * ceremony that begins before the previous one ended is a fault); for each, in
 * order, the transcript's chain, files and seal, the replay of what it issued,
 * and its witnesses' countersignatures; across the whole history, serial
 * numbers used once and CRL numbers increasing; and the inventory it prints
 * (live certificates, revocations, backups, drills). Stops at the first fault.
 * Does not own: the checks of one transcript (transcript, replay, countersig).
 */
#ifndef CEREMONY_AUDIT_H
#define CEREMONY_AUDIT_H

#include <stdio.h>

#include "ceremony/archive.h"

#define AUDIT_MAX_TRANSCRIPTS 4096

struct audit_opts {
	const char *dir;
	const char *root_path; /* NULL: the root certificate the first ceremony made */
	int verbose;           /* a verdict per record */
	int partial;           /* --partial: what could not be checked does not fail the audit */
	/* What lets backups sealed at the test Argon2id cost pass (NULL: they fail). */
	const char *test_cost_allowed;
	int allow_unanchored;  /* without root_path: accept the history's own root (says so) */
	struct archive_view view; /* where the archive's folders are (--archive, --folder, --outside) */
};

int audit_run(const struct audit_opts *o, FILE *out) __attribute__((warn_unused_result));

#endif

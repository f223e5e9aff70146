/*
 * backups — which backup blob of the root key is current, as the history says.
 *
 * Owns: collecting the backup.create and backup.rekey records of a folder of
 * transcripts (each chain-verified): the blob and internal record each wrote,
 * and which blobs a later rekey superseded. Does not own: the blob format
 * (backupblob), making or recovering backups (backup), seals (transcript).
 */
#ifndef CEREMONY_BACKUPS_H
#define CEREMONY_BACKUPS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "ceremony/sizes.h"

#define BACKUPS_ID_MAX 33

struct backup_made {
	char backup_id[BACKUPS_ID_MAX];
	char action[16];           /* backup.create or backup.rekey */
	char transcript[PATH_MAX]; /* the transcript that recorded it */
	long seq;
	char blob[PATH_MAX];       /* as recorded, resolved against the transcript's folder */
	uint8_t blob_sha256[SHA256_LEN];
	int has_internal;
	char internal[PATH_MAX];
	uint8_t internal_sha256[SHA256_LEN];
	int superseded;            /* a later record names this blob in "supersedes" */
	char superseded_by[BACKUPS_ID_MAX];
};

struct backups {
	size_t n;
	struct backup_made *made; /* in history order */
};

/* Every backup made in the transcripts (*.jsonl) of dir, in name order. */
int backups_load(const char *dir, struct backups **out) __attribute__((warn_unused_result));
void backups_free(struct backups *b);

/* The record that made the blob with this SHA-256, or NULL. */
const struct backup_made *backups_find_blob(const struct backups *b,
					    const uint8_t sha256[SHA256_LEN]);

#endif

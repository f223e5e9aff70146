/*
 * history_int.h — what history.c and its index (history_index.c) share.
 *
 * The index caches what one sealed transcript adds to the history, keyed by the
 * SHA-256 of the transcript's bytes: a transcript that changes is read again.
 */
#ifndef CEREMONY_HISTORY_INT_H
#define CEREMONY_HISTORY_INT_H

#include <stdint.h>

#include "ceremony/history.h"
#include "ceremony/lint.h"

/* A CA with its name's hashes already computed (from the index, or a merge): hashes'
 * hashed, has_cn, subject_hash and cn_hash are taken (its der and len are not). */
int history_add_ca_keyed(struct history *h, const char *hex, const unsigned char *subject_der,
			 size_t len, const struct lint_name_der *hashes) __attribute__((warn_unused_result));
/* Append without the lookup tables (an index entry, merged into the history later). */
int history_push_serial(struct history *h, const char *hex) __attribute__((warn_unused_result));
int history_push_spki(struct history *h, const uint8_t spki[SHA256_LEN]) __attribute__((warn_unused_result));
int history_add_revoked(struct history *h, const char *serial, const char *reason,
			long long when) __attribute__((warn_unused_result));

/* What the transcript whose bytes hash to md adds, from its index entry into one (an
 * empty history), and its facts for the quorum walk (first_time, marks, known): 0, HISTORY_INDEX_ABSENT, or HISTORY_INDEX_DAMAGED (one may then
 * hold part of it: the caller starts again from an empty one). Never an error. */
#define HISTORY_INDEX_ABSENT 1
#define HISTORY_INDEX_DAMAGED 2
int history_index_read(const uint8_t md[SHA256_LEN], struct history *one,
		       struct history_file *facts);
/* Write that entry (best effort: a cache; a damaged one is replaced). */
void history_index_write(const uint8_t md[SHA256_LEN], const struct history *one,
			 const struct history_file *facts, int replace);

#endif

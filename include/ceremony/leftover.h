/*
 * leftover — recording what a failed operation could not remove from a token.
 *
 * Owns: the "hsm.leftover" transcript record (token, objects, the failed step)
 * and the end of the message that says whether it was recorded, keeping the
 * first error's message in front; finding, for a rerun, whether the history
 * names a key pair as left over (and never as generated), and recording its
 * removal ("hsm.leftover_removed"). Does not own: destroying objects (p11key,
 * p11wrap), or deciding what is left (each operation knows its objects).
 */
#ifndef CEREMONY_LEFTOVER_H
#define CEREMONY_LEFTOVER_H

#include <jansson.h>

#include "ceremony/transcript.h"

/*
 * Append {"token": token, "objects": objects, "after": after} as hsm.leftover
 * (steals token and objects) and end the current message of code r with
 * "; recorded in the transcript (hsm.leftover)" or "; NOT recorded in the
 * transcript (...)". Returns r. tr may be NULL (nothing recorded, said so).
 */
int leftover_record(struct transcript *tr, int r, json_t *token, json_t *objects,
		    const char *after);

/*
 * Does a transcript in dir (*.jsonl) record, on the token with this serial, the key
 * pair label/id_hex as left over (hsm.leftover of class "private and public key")?
 * *named: 1 if so and no key.generate record names that pair (a recorded key is
 * never a leftover), else 0. A transcript that does not read is an error.
 */
int leftover_key_named(const char *dir, const char *token_serial, const char *label,
		       const char *id_hex, int *named) __attribute__((warn_unused_result));

/* Append hsm.leftover_removed {"token": token, "objects": objects} (steals both). */
int leftover_removed_record(struct transcript *tr, json_t *token, json_t *objects)
	__attribute__((warn_unused_result));

#endif

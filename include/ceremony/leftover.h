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

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ceremony/p11.h"

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
 * A rerun after a failure that could not remove its key pair: the objects on the
 * session's token (tok) labelled label (and, if id is not NULL, those with that
 * CKA_ID) are removed, only if every one is a private or public key (or the pair's
 * waiver record) with this label and one CKA_ID (id, when given), and the latest
 * record about that pair on this token in dir's transcripts (*.jsonl; by time, then
 * transcript, then line) is an hsm.leftover, not a key.generate or backup.recover
 * (a key in force is never a leftover). The removal is checked (nothing with the
 * label or CKA_ID remains), recorded (hsm.leftover_removed; token, the JSON of tok,
 * is stolen) and said on out. *cleared: 1 if removed; 0 (and 0 returned) when none
 * is there or it is not such a leftover: the caller refuses as before.
 */
int leftover_key_clear(struct transcript *tr, struct p11_session *s, const struct p11_token *tok,
		       json_t *token,
		       const char *label, const uint8_t *id, size_t id_len, const char *dir,
		       FILE *out, int *cleared) __attribute__((warn_unused_result));

#endif

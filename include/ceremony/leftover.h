/*
 * leftover — recording what a failed operation could not remove from a token.
 *
 * Owns: the "hsm.leftover" transcript record (token, objects, the failed step)
 * and the end of the message that says whether it was recorded, keeping the
 * first error's message in front. Does not own: destroying objects (p11key,
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

#endif

#include <stdio.h>
#include <string.h>

#include "ceremony/err.h"
#include "ceremony/leftover.h"

#define LEFTOVER_MSG_MAX 1024

int leftover_record(struct transcript *tr, int r, json_t *token, json_t *objects,
		    const char *after)
{
	char first[LEFTOVER_MSG_MAX], why[LEFTOVER_MSG_MAX];
	json_t *details = json_pack("{s:o, s:o, s:s}", "token", token, "objects", objects, "after",
				    after);
	int w;

	/* The first error's words are the message; transcript_append may overwrite them. */
	w = snprintf(first, sizeof(first), "%s", cer_err_msg(r));
	if (w < 0)
		first[0] = '\0';
	if (details == NULL)
		return cer_err(r, "%s; NOT recorded in the transcript (out of memory)", first);
	if (tr == NULL) {
		json_decref(details);
		return cer_err(r, "%s; NOT recorded (no transcript open)", first);
	}
	if (transcript_append(tr, "hsm.leftover", NULL, NULL, details, NULL) == 0)
		return cer_err(r, "%s; recorded in the transcript (hsm.leftover)", first);
	w = snprintf(why, sizeof(why), "%s", cer_err_msg(CER_E_IO));
	if (w < 0)
		why[0] = '\0';
	return cer_err(r, "%s; NOT recorded in the transcript (%s)", first, why);
}

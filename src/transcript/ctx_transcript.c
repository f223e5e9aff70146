/* ctx_transcript: the transcript a command was told to write (see its header). */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>

#include <jansson.h>

#include "ceremony/airgap.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/err.h"
#include "ceremony/transcript.h"

int ctx_transcript_path(struct ceremony_ctx *ctx, const char *command, const char **out)
{
	*out = ctx->transcript_path;
	if (*out == NULL)
		return cer_err(CER_E_USAGE,
			       "%s changes the HSM or writes outputs: --transcript FILE is required",
			       command);
	return 0;
}

int ctx_transcript_open(struct ceremony_ctx *ctx, const char *command, struct transcript **out)
{
	const char *path;
	int r;

	json_t *override = NULL;

	*out = NULL;
	if ((r = ctx_transcript_path(ctx, command, &path)) != 0)
		return r;
	if ((r = airgap_enforce(ctx, &override)) != 0)
		return r;
	if ((r = transcript_open_after(path, ctx->ceremony_id, ctx->previous_path, out)) != 0) {
		json_decref(override);
		return r;
	}
	if (override != NULL && (r = transcript_begin_note(*out, "network_override", override)) != 0) {
		transcript_close(*out);
		*out = NULL;
	}
	return r;
}

int ctx_history_dir(struct ceremony_ctx *ctx, const char *given, const char *command, char *out,
		    size_t size, const char **tpath)
{
	char copy[PATH_MAX];
	int r;

	if ((r = ctx_transcript_path(ctx, command, tpath)) != 0)
		return r;
	if (given != NULL)
		return snprintf(out, size, "%s", given) >= (int)size
			       ? cer_err(CER_E_INPUT, "%s: path too long", given)
			       : 0;
	if (snprintf(copy, sizeof(copy), "%s", *tpath) >= (int)sizeof(copy) ||
	    snprintf(out, size, "%s", dirname(copy)) >= (int)size)
		return cer_err(CER_E_INPUT, "%s: path too long", *tpath);
	return 0;
}

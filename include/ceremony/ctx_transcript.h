/*
 * ctx_transcript — the transcript a command was told to write (--transcript,
 * --ceremony, --previous), opened after the air-gap check, with any override
 * recorded in its ceremony.begin. Does not own: the transcript format
 * (transcript) or the context (context).
 */
#ifndef CEREMONY_CTX_TRANSCRIPT_H
#define CEREMONY_CTX_TRANSCRIPT_H

#include <stddef.h>

#include "ceremony/context.h"

struct transcript;

/* Open --transcript for command (a new one linked to --previous). */
int ctx_transcript_open(struct ceremony_ctx *ctx, const char *command, struct transcript **out)
	__attribute__((warn_unused_result));

/* The transcript path, or a usage error naming the command that needs one. */
int ctx_transcript_path(struct ceremony_ctx *ctx, const char *command, const char **out)
	__attribute__((warn_unused_result));

/* The CA's history folder: given (--history) if not NULL, else the transcript's folder;
 * *tpath is the transcript path (a usage error naming command if none was given). */
int ctx_history_dir(struct ceremony_ctx *ctx, const char *given, const char *command, char *out,
		    size_t size, const char **tpath) __attribute__((warn_unused_result));

#endif

/*
 * runner — running a ceremony script step by step, and resuming it.
 *
 * Owns: the ceremony's order: check the script, the configuration, the
 * answers and every step's command line before anything happens; record the
 * script's and configuration's SHA-256 and the participants; manifest the
 * removable medium; for each step show "Act 2 — Root key, step 6/23", the role
 * and the text, run its `ceremony` command as a child process (with the
 * role's PIN sources from the answers, or the terminal), ask for the
 * confirmation, record begin/confirm/done, record exceptions (what was
 * expected, what happened, the decision, who decided), stop cleanly on a
 * refusal; at the end sign the medium's MANIFEST.sha256 and seal the
 * transcript. A ceremony cut short resumes from its transcript: finished
 * steps are skipped, an unfinished one is recognised as completed (its
 * command's record is there) or visibly abandoned and run again. --dry-run
 * prints every step and the exact command, touching nothing. Does not own:
 * the script format (script), the commands themselves.
 */
#ifndef CEREMONY_RUNNER_H
#define CEREMONY_RUNNER_H

#include <stdio.h>

#include "ceremony/context.h"

struct runner_opts {
	const char *script_path;
	const char *answers_path; /* NULL: interactive, on the terminal */
	int dry_run;
	const char *abandon_reason; /* --abandon: retire the ceremony, with this reason */
	const char *self; /* the ceremony binary the steps run */
};

int runner_run(struct ceremony_ctx *ctx, const struct runner_opts *o, FILE *out)
	__attribute__((warn_unused_result));

#endif

/* Shared by runner*.c; not a public API. */
#ifndef CEREMONY_RUNNER_INT_H
#define CEREMONY_RUNNER_INT_H

#include <limits.h>
#include <stdio.h>

#include <jansson.h>

#include "ceremony/runner.h"
#include "ceremony/script.h"

#define RUNNER_ARGV_MAX (SCRIPT_MAX_ARGS + 32)
/* How often a question is asked before an unrecognised answer ends it (issue 11.2). */
#define RUNNER_ASK_TRIES 3
#define RUNNER_SAY_MAX 1024
/* An answer typed at a prompt (a name, what happened). */
#define RUNNER_ANSWER_MAX 512

struct runner {
	struct ceremony_ctx *ctx;
	const struct runner_opts *o;
	struct script *script;
	json_t *answers;   /* NULL when interactive */
	const char *transcript;
	FILE *out;
	int done[SCRIPT_MAX_STEPS];  /* finished in an earlier run */
	int begun[SCRIPT_MAX_STEPS]; /* begun but not finished */
	long begun_seq[SCRIPT_MAX_STEPS];
	int retried[SCRIPT_MAX_STEPS]; /* retries decided in this run */
	int exceptions;
	int resumed;
	int started; /* ceremony.start is in the transcript */
	int ended;   /* ceremony.end is in the transcript */
	int abandoned; /* ceremony.abandoned is in the transcript */
	json_t *start_manifest; /* media files at the start */
	int last_act;           /* for act headings */
	json_t *names;          /* role -> who fills it, once known */
	/* What the next child's PIN prompts say: whose PIN, and what for (issue 11.10). */
	char prompt_user[96], prompt_so[96], prompt_purpose[160];
	json_t *notes; /* the last child's retyped entries: [{what, reason}], or NULL */
	/* The confidential annex (issue 11.5): steps run once per Key Executive record there. */
	const char *public_transcript; /* rn->transcript is the annex while such a step runs */
	char annex[PATH_MAX];          /* "" when the script has no annex */
	int annex_committed;           /* annex.commit is in the public transcript */
	const char *each_role, *each_card; /* the entry a step runs for: ${each.role}, ${each.card} */
	struct {
		int n, open;
		char id[SCRIPT_MAX_STEPS][24];
		int done[SCRIPT_MAX_STEPS], begun[SCRIPT_MAX_STEPS], command[SCRIPT_MAX_STEPS];
	} annex_steps; /* what an interrupted run did in the annex, by step id ("5.1/KE1") */
};

/* Answers and prompts (runner_io.c). */
int runner_answers_load(struct runner *rn) __attribute__((warn_unused_result));
/* The answer file's source for ROLE.pin / ROLE.so_pin / ROLE.passphrase, or NULL. */
const char *runner_secret_source(const struct runner *rn, const char *role, const char *what);
const char *runner_role_name(const struct runner *rn, const char *role);
/* Ask the role a yes/no question (answers file, or the terminal). */
int runner_confirm(struct runner *rn, const struct script_step *st, int *yes)
	__attribute__((warn_unused_result));
/* What happened, the decision (retry/continue/abort, or "undecided" after RUNNER_ASK_TRIES
 * unrecognised answers) and who decided. Never takes an unrecognised answer as a decision. */
int runner_exception_ask(struct runner *rn, const struct script_step *st, const char *expected,
			 const char *happened_default, int retry_offered, json_t **exception)
	__attribute__((warn_unused_result));
int runner_ask_names(struct runner *rn, json_t **roles) __attribute__((warn_unused_result));

/* Command lines (runner_cmd.c). */
/* argv for step st (NULL-terminated, strings malloc'd); display has secrets as <ROLE pin>. */
int runner_argv(struct runner *rn, const struct script_step *st, char **argv, int *argc,
		json_t **display) __attribute__((warn_unused_result));
int runner_argv_raw(struct runner *rn, const char *const *args, int n_args, const char *pin_role,
		    const char *so_pin_role, char **argv, int *argc, json_t **display)
	__attribute__((warn_unused_result));
void runner_argv_free(char **argv, int argc);
/* The next child's prompts name user_role's and so_role's PINs (either may be NULL) and
 * the purpose ("step 3.3", "to seal the transcript"). */
void runner_prompt_for(struct runner *rn, const char *user_role, const char *so_role,
		       const char *purpose);
/* st->say with its ${...} expanded (what is shown and recorded). */
int runner_say(struct runner *rn, const struct script_step *st, char *out, size_t size)
	__attribute__((warn_unused_result));
/* Run argv as a child; *status is its exit code. */
int runner_exec(struct runner *rn, char **argv, int *status) __attribute__((warn_unused_result));

/* Transcript records (runner.c). */
/* Every request the script pins is on the medium exactly as pinned (runner_requests.c). */
int runner_check_requests(struct runner *rn) __attribute__((warn_unused_result));
int runner_record(struct runner *rn, const char *action, json_t *details)
	__attribute__((warn_unused_result));

/* Dry run (runner_dry.c). */
/* Every ${name} the script uses that neither it nor ceremony.yaml sets, named in one error
 * with the step that uses it, before anything else. */
int runner_missing_vars(struct runner *rn) __attribute__((warn_unused_result));
int runner_dry_run(struct runner *rn) __attribute__((warn_unused_result));

#endif

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ceremony/archive.h"
#include "ceremony/airgap.h"
#include "ceremony/config.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/sizes.h"
#include "ceremony/tokenops.h"
#include "ceremony/fileio.h"
#include "ceremony/media.h"
#include "ceremony/readaloud.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"
#include "runner_int.h"

int runner_record(struct runner *rn, const char *action, json_t *details)
{
	struct transcript *t = NULL;
	json_t *override = NULL;
	int r;

	/* Reopened each time: the steps' commands append to the same file in between. */
	r = airgap_enforce(rn->ctx, &override);
	if (r == 0)
		r = transcript_open_after(rn->transcript, rn->script->id,
					  rn->started ? NULL : rn->ctx->previous_path, &t);
	/* The override goes into ceremony.begin when this record is the transcript's first. */
	if (r == 0 && override != NULL) {
		r = transcript_begin_note(t, "network_override", override);
		override = NULL;
	}
	json_decref(override);
	if (r != 0) {
		transcript_close(t);
		json_decref(details);
		return r;
	}
	r = transcript_append(t, action, NULL, NULL, details, NULL);
	transcript_close(t);
	return r;
}

static int is_runner_action(const char *a)
{
	return strncmp(a, "ceremony.", 9) == 0 || strncmp(a, "step.", 5) == 0 ||
	       strcmp(a, "media.manifest") == 0;
}

static int step_index(const struct runner *rn, const char *id)
{
	for (int i = 0; id != NULL && i < rn->script->n_steps; i++)
		if (strcmp(rn->script->steps[i].id, id) == 0)
			return i;
	return -1;
}

struct scan {
	struct runner *rn;
	int open_step; /* begun, not finished; -1 none */
	int command_recorded[SCRIPT_MAX_STEPS];
	int script_mismatch;
};

static int scan_cb(void *arg, long line, json_t *rec)
{
	struct scan *sc = arg;
	struct runner *rn = sc->rn;
	const char *a = json_string_value(json_object_get(rec, "action"));
	json_t *d = json_object_get(rec, "details");
	int i = step_index(rn, json_string_value(json_object_get(d, "step")));

	if (a == NULL)
		return 0;
	if (strcmp(a, "ceremony.start") == 0) {
		const char *role;
		json_t *v;
		json_decref(rn->names);
		rn->names = json_object();
		json_object_foreach(json_object_get(d, "roles"), role, v)
		json_object_set(rn->names, role, json_object_get(v, "name"));
		const char *sha = json_string_value(
			json_object_get(json_object_get(d, "script"), "sha256"));
		char mine[SHA256_HEX_SIZE];
		hex_encode(rn->script->sha256, SHA256_LEN, mine);
		sc->script_mismatch = sha == NULL || strcmp(sha, mine) != 0;
		rn->started = 1;
	} else if (strcmp(a, "ceremony.end") == 0)
		rn->ended = 1;
	else if (strcmp(a, "ceremony.abandoned") == 0)
		rn->abandoned = 1;
	else if (strcmp(a, "annex.commit") == 0)
		rn->annex_committed = 1;
	else if (strcmp(a, "media.manifest") == 0 && rn->start_manifest == NULL)
		rn->start_manifest = json_incref(json_object_get(d, "files"));
	else if (strcmp(a, "step.begin") == 0 && i >= 0) {
		rn->begun[i] = 1;
		rn->begun_seq[i] = line;
		sc->open_step = i;
	} else if ((strcmp(a, "step.done") == 0 || strcmp(a, "step.recovered") == 0) && i >= 0) {
		rn->done[i] = 1;
		rn->begun[i] = 0;
		sc->open_step = -1;
	} else if (strcmp(a, "step.exception") == 0 && i >= 0) {
		rn->exceptions++;
		if (strcmp(json_string_value(json_object_get(d, "decision")), "continue") == 0) {
			rn->done[i] = 1;
			rn->begun[i] = 0;
		}
		sc->open_step = -1;
	} else if (strcmp(a, "step.abandoned") == 0 && i >= 0) {
		rn->begun[i] = 0;
		sc->open_step = -1;
	} else if (!is_runner_action(a) && sc->open_step >= 0 && strcmp(a, "cert.refused") != 0 &&
		   /* a backup's intent and its failed card openings are written before the
		    * command finishes: they do not mean it did */
		   strcmp(a, "backup.intent") != 0 && strcmp(a, "backup.card_failed") != 0)
		sc->command_recorded[sc->open_step] = 1;
	return 0;
}

/* Read what an earlier, interrupted run did. */
static int runner_scan(struct runner *rn, struct scan *sc)
{
	char sig[PATH_MAX];
	int r;

	memset(sc, 0, sizeof(*sc));
	sc->rn = rn;
	sc->open_step = -1;
	if (!file_exists(rn->transcript))
		return 0;
	if ((r = text_format(sig, sizeof(sig), "the transcript's seal path", "%s.sig",
			     rn->transcript)) != 0 ||
	    (r = transcript_each(rn->transcript, scan_cb, sc)) != 0)
		return r;
	if (!rn->started)
		return cer_err(CER_E_REFUSED, "%s is not a transcript of a scripted ceremony; start a "
					      "new transcript",
			       rn->transcript);
	if (sc->script_mismatch)
		return cer_err(CER_E_REFUSED, "%s was started with a different script than %s; "
					      "nothing was done",
			       rn->transcript, rn->script->path);
	if (file_exists(sig))
		return cer_err(CER_E_REFUSED, "%s is %s and sealed; nothing to resume",
			       rn->transcript, rn->abandoned ? "abandoned" : "complete");
	if (rn->abandoned && rn->o->abandon_reason == NULL)
		return cer_err(CER_E_REFUSED, "%s was abandoned; start the ceremony again in a new "
					      "transcript (with the same --previous)",
			       rn->transcript);
	rn->resumed = 1;
	return 0;
}

static void step_header(struct runner *rn, const struct script_step *st)
{
	int total = 0;

	for (int i = 0; i < rn->script->n_steps; i++)
		total += !rn->script->steps[i].after_seal;
	if (st->act != rn->last_act) {
		fprintf(rn->out, "\nAct %d — %s\n", st->act, st->act_title);
		rn->last_act = st->act;
	}
	char say[RUNNER_SAY_MAX];
	if (runner_say(rn, st, say, sizeof(say)) != 0)
		/* Shown only: the step.begin record refuses a say that does not fit. */
		text_format_cut(say, sizeof(say), "%s", st->say);
	fprintf(rn->out, "  %-4s %s", st->role, say);
	if (!st->after_seal)
		fprintf(rn->out, "   [step %s, %d/%d]", st->id, st->number, total);
	fprintf(rn->out, "\n");
}

/* A deviation: record it; 0 to continue, 1 to do the step again, CER_E_REFUSED to stop the
 * ceremony. Retry is offered at every failed step (issue 11.1). */
static int step_exception(struct runner *rn, const struct script_step *st, const char *expected,
			  const char *happened)
{
	json_t *ex = NULL;
	const char *decision, *by;
	char what[512];
	int r;

	if ((r = runner_exception_ask(rn, st, expected, happened, 1, &ex)) != 0)
		return r;
	decision = json_string_value(json_object_get(ex, "decision"));
	by = json_string_value(json_object_get(ex, "decided_by"));
	if (snprintf(what, sizeof(what), "%s", json_string_value(json_object_get(ex, "happened"))) >=
	    (int)sizeof(what))
		what[sizeof(what) - 4] = '.', what[sizeof(what) - 3] = '.', what[sizeof(what) - 2] = '.';
	if (by != NULL)
		fprintf(rn->out, "      exception recorded: %s (decided by %s)\n", decision, by);
	else
		fprintf(rn->out, "      exception recorded, undecided: the ceremony stops here\n");
	rn->exceptions++;
	int go_on = strcmp(decision, "continue") == 0, again = strcmp(decision, "retry") == 0;
	if ((r = runner_record(rn, "step.exception", ex)) != 0)
		return r;
	if (go_on)
		return 0;
	if (again) {
		rn->retried[st->index]++;
		fprintf(rn->out, "      doing step %s again\n", st->id);
		return 1;
	}
	if ((r = runner_record(rn, "ceremony.stopped",
			       json_pack("{s:s, s:s}", "step", st->id, "reason",
					 by != NULL ? what : "no decision was given"))) != 0)
		return r;
	return cer_err(CER_E_REFUSED,
		       "the ceremony stopped at step %s: %s; the transcript records why, and a later "
		       "run of the same script resumes here",
		       st->id, by != NULL ? what : "no decision was given");
}

/* Did the step's last attempt leave its token half-initialised (token.init_unfinished after
 * the step's last step.begin)? Then a retry finishes it with init --reinit. */
struct unfinished_scan {
	const char *step, *label;
	int found;
};

static int unfinished_cb(void *arg, long line, json_t *rec)
{
	struct unfinished_scan *u = arg;
	const char *a = json_string_value(json_object_get(rec, "action"));
	json_t *d = json_object_get(rec, "details");

	(void)line;
	if (a == NULL)
		return 0;
	if (strcmp(a, "step.begin") == 0 &&
	    strcmp(json_string_value(json_object_get(d, "step")) ? json_string_value(json_object_get(d, "step")) : "", u->step) == 0)
		u->found = 0;
	else if (strcmp(a, "token.init_unfinished") == 0) {
		const char *l = json_string_value(json_object_get(json_object_get(d, "token"), "label"));
		if (l != NULL && strcmp(l, u->label) == 0)
			u->found = 1;
	}
	return 0;
}

static int token_left_unfinished(struct runner *rn, const struct script_step *st)
{
	struct unfinished_scan u = {st->id, NULL, 0};

	if (st->n_args < 2 || strcmp(st->args[0], "token") || strcmp(st->args[1], "init"))
		return 0;
	for (int i = 2; i + 1 < st->n_args; i++)
		if (strcmp(st->args[i], "--label") == 0)
			u.label = st->args[i + 1];
	if (u.label == NULL || strchr(u.label, '$') != NULL)
		return 0; /* a ${variable} label: the runner does not guess what it expands to */
	if (transcript_each(rn->transcript, unfinished_cb, &u) != 0) {
		cer_err_clear();
		return 0;
	}
	return u.found;
}

/* 0 done, 1 failed and the decision was continue, 2 failed and the decision was retry. */
static int step_run_command(struct runner *rn, const struct script_step *st, int *outcome)
{
	char *argv[RUNNER_ARGV_MAX];
	json_t *display = NULL;
	int argc = 0, status = 0, r;
	char happened[128];

	*outcome = 0;
	if ((r = runner_argv(rn, st, argv, &argc, &display)) != 0)
		return r;
	/* A retried token init whose first attempt left the token half-made finishes it:
	 * "init --reinit", which the token command allows for a token this ceremony's
	 * transcript shows it created (issue 11.1). */
	if (rn->retried[st->index] > 0 && token_left_unfinished(rn, st)) {
		if (argc >= RUNNER_ARGV_MAX - 1 || (argv[argc] = strdup("--reinit")) == NULL ||
		    json_array_append_new(display, json_string("--reinit")) != 0) {
			runner_argv_free(argv, argc);
			json_decref(display);
			return cer_err(CER_E_NOMEM, "out of memory");
		}
		argv[++argc] = NULL;
		fprintf(rn->out, "      the token was left half-initialised: initialising it again "
				 "(token init --reinit)\n");
	}
	char say[RUNNER_SAY_MAX];
	r = runner_say(rn, st, say, sizeof(say));
	if (r == 0)
		r = runner_record(rn, "step.begin",
				  json_pack("{s:s, s:i, s:i, s:s, s:s, s:o}", "step", st->id, "number",
					    st->number, "act", st->act, "role", st->role, "say", say,
					    "command", display));
	else
		json_decref(display);
	if (r == 0) {
		char purpose[64];
		if ((r = text_format(purpose, sizeof(purpose), "the step's prompt", "step %s",
				     st->id)) == 0) {
			runner_prompt_for(rn, st->pin_role != NULL ? st->pin_role : st->role,
					  st->so_pin_role != NULL ? st->so_pin_role : st->role,
					  purpose);
			r = runner_exec(rn, argv, &status);
		}
	}
	runner_argv_free(argv, argc);
	/* Each secret typed again in the step is recorded: the prompt and why, never the
	 * secret (issue 11.2). */
	if (r == 0 && rn->notes != NULL) {
		r = runner_record(rn, "step.entry_retried",
				  json_pack("{s:s, s:O}", "step", st->id, "entries", rn->notes));
		json_decref(rn->notes);
		rn->notes = NULL;
	}
	if (r != 0 || status == 0)
		return r;
	if ((r = text_format(happened, sizeof(happened), "what happened",
			     "the command exited with status %d (its reason is printed above)",
			     status)) != 0)
		return r;
	if ((r = runner_record(rn, "step.failed", json_pack("{s:s, s:i}", "step", st->id, "exit",
							    status))) != 0)
		return r;
	if ((r = step_exception(rn, st, "the command succeeds", happened)) < 0)
		return r;
	*outcome = r == 1 ? 2 : 1;
	return 0;
}

/* One attempt at a step; *again when the participants decided to do it again. */
static int step_attempt(struct runner *rn, const struct script_step *st, int command_done,
			int *again)
{
	int outcome = 0, yes = 0, r;

	*again = 0;
	if (st->n_args > 0 && !command_done) {
		if ((r = step_run_command(rn, st, &outcome)) != 0)
			return r;
		if (outcome == 2)
			*again = 1;
		if (outcome != 0)
			return 0; /* deviation recorded: retry, or the participants chose to go on */
	} else if (!command_done) {
		char say[RUNNER_SAY_MAX];
		if ((r = runner_say(rn, st, say, sizeof(say))) != 0 ||
		    (r = runner_record(rn, "step.begin",
				       json_pack("{s:s, s:i, s:i, s:s, s:s}", "step", st->id, "number",
						 st->number, "act", st->act, "role", st->role, "say",
						 say))) != 0)
			return r;
	}
	if (st->confirm != NULL) {
		if ((r = runner_confirm(rn, st, &yes)) != 0)
			return r;
		if ((r = runner_record(rn, "step.confirm",
				       json_pack("{s:s, s:s, s:s, s:s}", "step", st->id, "role",
						 st->role, "question", st->confirm, "answer",
						 yes ? "yes" : "no"))) != 0)
			return r;
		if (!yes) {
			if ((r = step_exception(rn, st, st->confirm, "the role did not confirm")) < 0)
				return r;
			*again = r == 1;
			return 0;
		}
	}
	if ((r = runner_record(rn, "step.done", json_pack("{s:s}", "step", st->id))) != 0)
		return r;
	fprintf(rn->out, "      ✓ recorded\n");
	return 0;
}

static int step_run(struct runner *rn, const struct script_step *st, int command_done)
{
	int again = 0, r;

	do {
		if ((r = step_attempt(rn, st, command_done, &again)) != 0)
			return r;
		command_done = 0; /* a retry does the whole step, its command too */
	} while (again);
	return 0;
}

/* An earlier run stopped inside step i; *command_done when its command had finished. */
static int step_resume(struct runner *rn, int i, const struct scan *sc, int *command_done)
{
	const struct script_step *st = &rn->script->steps[i];

	*command_done = 0;
	if (sc->command_recorded[i]) {
		fprintf(rn->out, "      the interrupted run's command finished (its record is there)\n");
		*command_done = 1;
		if (st->confirm != NULL)
			return 0; /* only the confirmation is left */
		rn->done[i] = 1;
		return runner_record(rn, "step.recovered",
				     json_pack("{s:s, s:s}", "step", st->id, "how",
					       "the command's own record follows the step's begin"));
	}
	fprintf(rn->out, "      interrupted in an earlier run: abandoned, and done again\n");
	return runner_record(rn, "step.abandoned",
			     json_pack("{s:s, s:s}", "step", st->id, "reason",
				       sc->command_recorded[i]
					       ? "interrupted before its confirmation"
					       : "interrupted before its command recorded anything"));
}

/* The annex's record of step id, added when new; -1 when the table is full. */
static int annex_slot(struct runner *rn, const char *id)
{
	int i;

	for (i = 0; i < rn->annex_steps.n; i++)
		if (strcmp(rn->annex_steps.id[i], id) == 0)
			return i;
	if (i == SCRIPT_MAX_STEPS || strlen(id) >= sizeof(rn->annex_steps.id[0]))
		return -1;
	if (text_copy(rn->annex_steps.id[i], sizeof(rn->annex_steps.id[i]), "annex step id", id) != 0) {
		cer_err_clear(); /* checked above: it fits */
		return -1;
	}
	rn->annex_steps.n++;
	return i;
}

/* What an interrupted run did in the annex: the same reading as scan_cb, by step id. */
static int annex_scan_cb(void *arg, long line, json_t *rec)
{
	struct runner *rn = arg;
	const char *a = json_string_value(json_object_get(rec, "action"));
	json_t *d = json_object_get(rec, "details");
	const char *id = json_string_value(json_object_get(d, "step"));
	int i = id != NULL ? annex_slot(rn, id) : -1;

	(void)line;
	if (a == NULL)
		return 0;
	if (strcmp(a, "step.begin") == 0 && i >= 0) {
		rn->annex_steps.begun[i] = 1;
		rn->annex_steps.command[i] = 0;
		rn->annex_steps.open = i;
	} else if ((strcmp(a, "step.done") == 0 || strcmp(a, "step.recovered") == 0) && i >= 0) {
		rn->annex_steps.done[i] = 1;
		rn->annex_steps.begun[i] = 0;
		rn->annex_steps.open = -1;
	} else if (strcmp(a, "step.exception") == 0 && i >= 0) {
		if (strcmp(json_string_value(json_object_get(d, "decision")), "continue") == 0) {
			rn->annex_steps.done[i] = 1;
			rn->annex_steps.begun[i] = 0;
		}
		rn->annex_steps.open = -1;
	} else if (strcmp(a, "step.abandoned") == 0 && i >= 0) {
		rn->annex_steps.begun[i] = 0;
		rn->annex_steps.open = -1;
	} else if (!is_runner_action(a) && rn->annex_steps.open >= 0 && strcmp(a, "cert.refused") != 0 &&
		   strcmp(a, "backup.intent") != 0 && strcmp(a, "backup.card_failed") != 0)
		rn->annex_steps.command[rn->annex_steps.open] = 1;
	return 0;
}

/*
 * A step whose records go to the confidential annex (issue 11.5): the public
 * transcript records it once (step.begin, step.done: no entry, no count); each entry
 * of its list runs as its own step "ID/ROLE" in the annex, with ${each.role} and
 * ${each.card}. A resumed run skips the entries the annex shows done.
 */
static int annex_step(struct runner *rn, int i)
{
	const struct script_step *st = &rn->script->steps[i];
	struct script_entry e[SCRIPT_MAX_ENTRIES];
	int n = 1, r = 0;

	if (st->each != NULL &&
	    (r = script_list(rn->script, rn->ctx->config, st->each, e, SCRIPT_MAX_ENTRIES, &n)) != 0)
		return r;
	if (!rn->begun[i]) {
		/* The say text with each entry's role and card as placeholders: no entry is named. */
		char say[RUNNER_SAY_MAX];
		rn->each_role = st->each != NULL ? "<each>" : NULL;
		rn->each_card = "<their card>";
		r = runner_say(rn, st, say, sizeof(say));
		rn->each_role = rn->each_card = NULL;
		if (r != 0)
			return r;
		json_t *d = json_pack("{s:s, s:i, s:i, s:s, s:s, s:b, s:s?}", "step", st->id, "number",
				      st->number, "act", st->act, "role",
				      st->each != NULL ? "<each>" : st->role, "say", say, "annex", 1,
				      "each", st->each);
		if ((r = runner_record(rn, "step.begin", d)) != 0)
			return r;
		rn->begun[i] = 1;
	}
	fprintf(rn->out, "      recorded in the confidential annex\n");
	rn->transcript = rn->annex;
	for (int k = 0; r == 0 && k < n; k++) {
		struct script_step t = *st;
		int a, command_done = 0;
		if (st->each != NULL) {
			if ((r = text_format(t.id, sizeof(t.id), "the step id of a list's entry", "%s/%s",
					     st->id, e[k].role)) != 0)
				break;
			t.role = e[k].role;
			if (t.pin_role != NULL && strcmp(t.pin_role, SCRIPT_EACH_ROLE) == 0)
				t.pin_role = e[k].role;
			if (t.so_pin_role != NULL && strcmp(t.so_pin_role, SCRIPT_EACH_ROLE) == 0)
				t.so_pin_role = e[k].role;
			rn->each_role = e[k].role;
			rn->each_card = e[k].card;
		}
		a = annex_slot(rn, t.id);
		if (st->each != NULL) {
			char say[RUNNER_SAY_MAX];
			if (runner_say(rn, &t, say, sizeof(say)) != 0)
				cer_err_clear(); /* the step's record refuses it */
			fprintf(rn->out, "    %-4s %s   [step %s]\n", t.role, say, t.id);
		}
		if (a >= 0 && rn->annex_steps.done[a]) {
			fprintf(rn->out, "      done in an earlier run\n");
			continue;
		}
		if (a >= 0 && rn->annex_steps.begun[a]) {
			if (rn->annex_steps.command[a]) {
				fprintf(rn->out, "      the interrupted run's command finished (its record "
						 "is there)\n");
				command_done = 1;
				if (t.confirm == NULL) {
					r = runner_record(rn, "step.recovered",
							  json_pack("{s:s, s:s}", "step", t.id, "how",
								    "the command's own record follows the "
								    "step's begin"));
					continue;
				}
			} else {
				fprintf(rn->out, "      interrupted in an earlier run: abandoned, and done "
						 "again\n");
				if ((r = runner_record(rn, "step.abandoned",
						       json_pack("{s:s, s:s}", "step", t.id, "reason",
								 "interrupted before its command "
								 "recorded anything"))) != 0)
					break;
			}
		}
		r = step_run(rn, &t, command_done);
	}
	rn->transcript = rn->public_transcript;
	rn->each_role = rn->each_card = NULL;
	if (r == CER_E_REFUSED) {
		/* Stopped inside the annex (its own records say why): the public transcript says
		 * where, not why, and a later run resumes at the same entry. */
		char why[512];
		(void)text_format_cut(why, sizeof(why), "%s", cer_err_msg(r));
		if (runner_record(rn, "ceremony.stopped",
				  json_pack("{s:s, s:s}", "step", st->id, "reason",
					    "stopped inside the confidential annex (its records say "
					    "why)")) != 0)
			return CER_E_IO;
		return cer_err(CER_E_REFUSED, "%s", why);
	}
	if (r != 0)
		return r;
	if ((r = runner_record(rn, "step.done", json_pack("{s:s}", "step", st->id))) != 0)
		return r;
	rn->done[i] = 1;
	fprintf(rn->out, "      ✓ recorded\n");
	return 0;
}

static int media_dir(struct runner *rn, char *out, size_t size)
{
	const char *xn[] = {"transcript"}, *xv[] = {rn->transcript};

	if (rn->script->media == NULL)
		return 1;
	return script_expand(rn->script, rn->ctx->config, xn, xv, 1, rn->script->media, out, size);
}

/* details[key]: path relative to the CA's archive, or its base name with
 * KEY_outside_archive (archive.h); a file whose folder is not there yet is outside. */
static int runner_note_path(struct runner *rn, const char *path, json_t *details, const char *key)
{
	char root[PATH_MAX], flag[64];
	const char *slash = strrchr(path, '/');
	int r;

	if ((r = archive_root_of(rn->transcript, root)) != 0)
		return r;
	if (archive_note_path(root, path, details, key) == 0)
		return 0;
	cer_err_clear();
	if ((r = text_format(flag, sizeof(flag), "the field name", "%s_outside_archive", key)) != 0)
		return r;
	if (json_object_set_new(details, key, json_string(slash != NULL ? slash + 1 : path)) != 0 ||
	    json_object_set_new(details, flag, json_true()) != 0)
		return cer_err(CER_E_NOMEM, "out of memory");
	return 0;
}

/* The requests the script pins, as expanded for this run: what the auditor compares. */
static int pinned_requests(struct runner *rn, json_t *details)
{
	json_t *list = json_array();
	char v[4][SCRIPT_ARG_MAX];
	int r;

	if (list == NULL || json_object_set_new(details, "requests", list) != 0)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (int i = 0; i < rn->script->n_requests; i++) {
		const struct script_request *q = &rn->script->requests[i];
		const char *in[4] = {q->file, q->profile, q->spki_sha256, q->subject};
		for (int k = 0; k < 4; k++)
			if ((r = script_expand(rn->script, rn->ctx->config, NULL, NULL, 0, in[k], v[k],
					       sizeof(v[k]))) != 0)
				return r;
		json_t *e = json_pack("{s:s, s:s, s:s}", "profile", v[1], "spki_sha256", v[2],
				      "subject", v[3]);
		if (e == NULL || json_array_append_new(list, e) != 0)
			return cer_err(CER_E_NOMEM, "out of memory");
		/* The file relative to the CA's archive (issue 10.7), never the machine's path. */
		if ((r = runner_note_path(rn, v[0], e, "file")) != 0)
			return r;
	}
	return 0;
}

/* A file's path as a record holds it: relative to the CA's archive, or its name with
 * "outside_archive" (issue 10.7; archive.h). */
static int runner_record_path(struct runner *rn, const char *path, json_t *obj)
{
	char root[PATH_MAX], rel[PATH_MAX];
	int outside, r;

	if ((r = archive_root_of(rn->transcript, root)) != 0 ||
	    (r = archive_relative(root, path, rel, sizeof(rel), &outside)) != 0)
		return r;
	if (json_object_set_new(obj, "path", json_string(rel)) != 0 ||
	    (outside && json_object_set_new(obj, "outside_archive", json_true()) != 0))
		return cer_err(CER_E_NOMEM, "out of memory");
	return 0;
}

static int ceremony_start(struct runner *rn)
{
	struct media_manifest *m = NULL;
	char media[PATH_MAX], sha[SHA256_HEX_SIZE], cfg_sha[SHA256_HEX_SIZE];
	json_t *roles = NULL, *cfg = json_null(), *details, *script, *d;
	int r;

	if ((r = runner_ask_names(rn, &roles)) != 0)
		return r;
	json_decref(rn->names);
	rn->names = json_object();
	{
		const char *role;
		json_t *v;
		json_object_foreach(roles, role, v)
		json_object_set(rn->names, role, json_object_get(v, "name"));
	}
	hex_encode(rn->script->sha256, SHA256_LEN, sha);
	if (rn->ctx->config != NULL) {
		/* Not the file's own hash: tried against the few values k and n can take, it
		 * would give them away (issue 11.5). */
		hex_encode(rn->ctx->config->public_sha256, SHA256_LEN, cfg_sha);
		cfg = json_object();
		if ((r = runner_record_path(rn, rn->ctx->config->path, cfg)) != 0 ||
		    json_object_set_new(cfg, "sha256_redacted", json_string(cfg_sha)) != 0) {
			json_decref(cfg);
			json_decref(roles);
			return r != 0 ? r : cer_err(CER_E_NOMEM, "out of memory");
		}
	}
	script = json_object();
	if ((r = runner_record_path(rn, rn->script->path, script)) != 0 ||
	    json_object_set_new(script, "sha256", json_string(sha)) != 0 ||
	    json_object_set_new(script, "id", json_string(rn->script->id)) != 0 ||
	    json_object_set_new(script, "title", json_string(rn->script->title)) != 0) {
		json_decref(script);
		json_decref(cfg);
		json_decref(roles);
		return r != 0 ? r : cer_err(CER_E_NOMEM, "out of memory");
	}
	details = json_pack("{s:o, s:o, s:o, s:s, s:i}", "script", script, "config", cfg, "roles",
			    roles, "mode", rn->answers != NULL ? "answers" : "interactive", "steps",
			    rn->script->n_steps);
	if (details != NULL && rn->script->n_requests > 0 &&
	    (r = pinned_requests(rn, details)) != 0) {
		json_decref(details);
		return r;
	}
	r = runner_record(rn, "ceremony.start", details);
	if (r != 0)
		return r;
	rn->started = 1;
	fprintf(rn->out, "Script sha256 ");
	readaloud_print(rn->out, "", rn->script->sha256, 32);
	if ((r = media_dir(rn, media, sizeof(media))) > 0)
		return 0;
	if (r != 0 || (r = media_scan(media, &m)) != 0)
		return r;
	rn->start_manifest = media_manifest_json(m);
	{
		char root[PATH_MAX];
		d = json_pack("{s:O}", "files", rn->start_manifest);
		if (d == NULL) {
			media_manifest_free(m);
			return cer_err(CER_E_NOMEM, "out of memory");
		}
		if ((r = archive_root_of(rn->transcript, root)) != 0 ||
		    (r = archive_note_path(root, media, d, "media")) != 0) {
			json_decref(d);
			media_manifest_free(m);
			return r;
		}
	}
	r = runner_record(rn, "media.manifest", d);
	fprintf(rn->out, "Medium %s: %zu files hashed and recorded\n", media, m->n);
	media_manifest_free(m);
	return r;
}

/* Run a built-in command line (media sign, transcript seal) as the seal's role. */
static int run_as_sealer(struct runner *rn, const char *const *args, int n)
{
	const char *role = json_string_value(json_object_get(rn->script->seal, "role"));
	char *argv[RUNNER_ARGV_MAX];
	json_t *display = NULL;
	int argc = 0, status = 0, r;

	if ((r = runner_argv_raw(rn, args, n, role, NULL, argv, &argc, &display)) != 0)
		return r;
	json_decref(display);
	runner_prompt_for(rn, role, NULL,
			  strcmp(args[0], "transcript") == 0 ? "to seal the transcript"
							     : "to sign the medium's manifest");
	r = runner_exec(rn, argv, &status);
	runner_argv_free(argv, argc);
	if (r == 0 && status != 0)
		r = cer_err(CER_E_REFUSED, "%s %s failed (status %d); the ceremony is not complete: "
					   "run the script again to finish it",
			    args[0], args[1], status);
	return r;
}

static int seal_args(struct runner *rn, const char *verb0, const char *verb1, const char *target,
		     const char **args, int *n)
{
	const char *cert = json_string_value(json_object_get(rn->script->seal, "cert"));

	*n = 0;
	args[(*n)++] = verb0;
	args[(*n)++] = verb1;
	args[(*n)++] = "--token";
	args[(*n)++] = json_string_value(json_object_get(rn->script->seal, "token"));
	args[(*n)++] = "--key";
	args[(*n)++] = json_string_value(json_object_get(rn->script->seal, "key"));
	if (cert != NULL) {
		args[(*n)++] = "--cert";
		args[(*n)++] = cert;
	}
	args[(*n)++] = target;
	return 0;
}

/* MANIFEST.sha256 of what the ceremony wrote to the medium, built and signed by
 * "media sign" (which refuses a manifest it did not build). */
static int ceremony_media_end(struct runner *rn)
{
	char media[PATH_MAX];
	const char *args[12];
	int n, r;

	if ((r = media_dir(rn, media, sizeof(media))) > 0)
		return 0;
	if (r != 0)
		return r;
	if (rn->script->seal == NULL)
		return cer_err(CER_E_INPUT, "%s: a script with media needs seal: to sign its manifest",
			       rn->script->path);
	(void)seal_args(rn, "media", "sign", media, args, &n);
	return run_as_sealer(rn, args, n);
}

/*
 * Seal the annex with the ceremony's key, then commit the public transcript to it:
 * annex.commit holds the SHA-256 of the sealed annex and of its seal, nothing of what
 * it says. An auditor cleared for it checks both hashes and verifies the annex as a
 * transcript; anyone else sees that an annex exists and was committed to.
 */
static int annex_commit(struct runner *rn)
{
	const char *args[12];
	char sig[PATH_MAX + 8], hex[SHA256_HEX_SIZE], sig_hex[SHA256_HEX_SIZE];
	uint8_t md[SHA256_LEN];
	int n, r, sealed;

	if (rn->annex[0] == '\0' || rn->annex_committed || !file_exists(rn->annex))
		return 0;
	if ((r = text_format(sig, sizeof(sig), "the annex's seal path", "%s.sig", rn->annex)) != 0)
		return r;
	if (rn->script->seal != NULL && !file_exists(sig)) {
		(void)seal_args(rn, "transcript", "seal", rn->annex, args, &n);
		rn->transcript = rn->annex;
		r = run_as_sealer(rn, args, n);
		rn->transcript = rn->public_transcript;
		if (r != 0)
			return r;
	}
	sealed = file_exists(sig);
	if ((r = file_sha256(rn->annex, md)) != 0)
		return r;
	hex_encode(md, SHA256_LEN, hex);
	if (sealed) {
		if ((r = file_sha256(sig, md)) != 0)
			return r;
		hex_encode(md, SHA256_LEN, sig_hex);
	}
	const char *base = strrchr(rn->annex, '/');
	r = runner_record(rn, "annex.commit",
			  json_pack("{s:s, s:s, s:s?, s:s}", "file", base != NULL ? base + 1 : rn->annex,
				    "sha256", hex, "seal_sha256", sealed ? sig_hex : NULL, "holds",
				    "the records of the steps that would count the Key Executives' "
				    "cards; kept with the internal records"));
	if (r == 0) {
		rn->annex_committed = 1;
		fprintf(rn->out, "Confidential annex sealed; its SHA-256 is committed in the public "
				 "transcript\n");
	}
	return r;
}

static int ceremony_finish(struct runner *rn)
{
	const char *args[12];
	char sig[PATH_MAX];
	uint8_t md[SHA256_LEN];
	int n, steps = 0, r;

	for (int i = 0; i < rn->script->n_steps; i++)
		steps += !rn->script->steps[i].after_seal;
	if (!rn->ended) {
		if ((r = annex_commit(rn)) != 0 || (r = ceremony_media_end(rn)) != 0)
			return r;
		if ((r = runner_record(rn, "ceremony.end",
				       json_pack("{s:i, s:i}", "steps", steps, "exceptions",
						 rn->exceptions))) != 0)
			return r;
	}
	if ((r = text_format(sig, sizeof(sig), "the transcript's seal path", "%s.sig",
			     rn->transcript)) != 0)
		return r;
	if (rn->script->seal != NULL && !file_exists(sig)) {
		(void)seal_args(rn, "transcript", "seal", rn->transcript, args, &n);
		if ((r = run_as_sealer(rn, args, n)) != 0)
			return r;
	}
	fprintf(rn->out, "\nCeremony complete: %d steps, %d exception%s.%s\n", steps,
		rn->exceptions, rn->exceptions == 1 ? "" : "s",
		file_exists(sig) ? " Transcript sealed." : " Transcript not sealed (no seal: in the script).");
	if (file_sha256(rn->transcript, md) == 0)
		readaloud_print(rn->out, "transcript", md, 32);
	for (int i = 0; i < rn->script->n_steps; i++) {
		const struct script_step *st = &rn->script->steps[i];
		char *argv[RUNNER_ARGV_MAX];
		json_t *display = NULL;
		int argc = 0, status = 0;
		if (!st->after_seal)
			continue;
		step_header(rn, st);
		if (st->n_args == 0)
			continue;
		if ((r = runner_argv(rn, st, argv, &argc, &display)) != 0)
			return r;
		json_decref(display);
		runner_prompt_for(rn, st->pin_role != NULL ? st->pin_role : st->role,
				  st->so_pin_role, "after the seal");
		r = runner_exec(rn, argv, &status);
		runner_argv_free(argv, argc);
		if (r != 0)
			return r;
		fprintf(rn->out, "      %s\n", status == 0 ? "✓ done" : "✗ failed (see above)");
	}
	return 0;
}

/*
 * What each step needs from the tokens it names (issue 12 item 3): a script
 * that cannot finish on these tokens must not initialise one.
 */
static int runner_needs(struct runner *rn)
{
	const char *args[SCRIPT_MAX_ARGS];
	char buf[SCRIPT_MAX_ARGS][SCRIPT_ARG_MAX];
	struct p11_module *m = NULL;
	int r = 0;

	for (int i = 0; r == 0 && i < rn->script->n_steps; i++) {
		const struct script_step *st = &rn->script->steps[i];
		int n = st->n_args < SCRIPT_MAX_ARGS ? st->n_args : SCRIPT_MAX_ARGS;
		for (int j = 0; r == 0 && j < n; j++) {
			/* ${transcript} and ${name.X} are never token names: keep them as written. */
			if (script_expand(rn->script, rn->ctx->config, NULL, NULL, 0, st->args[j],
					  buf[j], sizeof(buf[j])) != 0) {
				cer_err_clear();
				r = text_copy(buf[j], sizeof(buf[j]), "the argument", st->args[j]);
			}
			args[j] = buf[j];
		}
		if (r == 0)
			r = tokenops_step_needs(rn->ctx, &m, args, n);
		if (r != 0)
			cer_err_prefix("%s: step %s: nothing was done: ", rn->script->path, st->id);
	}
	p11_module_free(m);
	return r;
}

/* Every step's command line must build before anything happens (STYLE 9). */
static int runner_preflight(struct runner *rn)
{
	char *argv[RUNNER_ARGV_MAX], media[PATH_MAX];
	json_t *display = NULL;
	int argc = 0, r;

	if ((r = runner_missing_vars(rn)) != 0)
		return r;
	for (int i = 0; i < rn->script->n_steps; i++) {
		const struct script_step *st = &rn->script->steps[i];
		if (st->n_args > 0 && strcmp(st->args[0], "transcript") == 0 && st->n_args > 1 &&
		    strcmp(st->args[1], "seal") == 0 && !st->after_seal)
			return cer_err(CER_E_INPUT, "%s: step %s: seal with the script's seal: section, "
						    "so the ceremony's end is recorded first",
				       rn->script->path, st->id);
		if (st->n_args == 0)
			continue;
		if (st->each != NULL) { /* every entry's command line, as it will run */
			struct script_entry e[SCRIPT_MAX_ENTRIES];
			int n;
			if ((r = script_list(rn->script, rn->ctx->config, st->each, e,
					     SCRIPT_MAX_ENTRIES, &n)) != 0)
				return r;
			for (int k = 0; k < n; k++) {
				rn->each_role = e[k].role;
				rn->each_card = e[k].card;
				r = runner_argv(rn, st, argv, &argc, &display);
				rn->each_role = rn->each_card = NULL;
				if (r != 0)
					return r;
				runner_argv_free(argv, argc);
				json_decref(display);
			}
			continue;
		}
		if ((r = runner_argv(rn, st, argv, &argc, &display)) != 0)
			return r;
		runner_argv_free(argv, argc);
		json_decref(display);
	}
	if ((r = runner_needs(rn)) != 0)
		return r;
	if ((r = media_dir(rn, media, sizeof(media))) < 0)
		return r;
	if (r == 0 && !file_exists(media))
		return cer_err(CER_E_NOTFOUND, "the medium %s is not there (is it mounted?); nothing "
					       "was done",
			       media);
	if (r == 0 && !file_exists(rn->transcript)) {
		char manifest[PATH_MAX + 32];
		if ((r = text_format(manifest, sizeof(manifest), "the medium's manifest path",
				     "%s/%s", media, MEDIA_MANIFEST_NAME)) != 0)
			return r;
		if (file_exists(manifest))
			return cer_err(CER_E_REFUSED, "%s already carries an earlier ceremony's %s; "
						      "bring a fresh medium; nothing was done",
				       media, MEDIA_MANIFEST_NAME);
	}
	if (!file_exists(rn->transcript) && rn->ctx->previous_path != NULL) {
		char sig[PATH_MAX + 8];
		if ((r = text_format(sig, sizeof(sig), "the previous transcript's seal path",
				     "%s.sig", rn->ctx->previous_path)) != 0)
			return r;
		if (!file_exists(sig))
			return cer_err(CER_E_REFUSED, "--previous %s is not sealed; nothing was done",
				       rn->ctx->previous_path);
	}
	return 0;
}

/* A resumed run may be on another day, on another machine state: its own air-gap note. */
static int runner_record_resumed(struct runner *rn)
{
	json_t *override = NULL, *d;
	int r;

	if ((r = airgap_enforce(rn->ctx, &override)) != 0)
		return r;
	d = json_object();
	if (d == NULL || (override != NULL && json_object_set_new(d, "network_override", override))) {
		json_decref(d);
		return cer_err(CER_E_NOMEM, "out of memory");
	}
	{
		char root[PATH_MAX];
		if ((r = archive_root_of(rn->transcript, root)) != 0 ||
		    (r = archive_note_path(root, rn->script->path, d, "script")) != 0) {
			json_decref(d);
			return r;
		}
	}
	return runner_record(rn, "ceremony.resumed", d);
}

/* Retire a ceremony that will not be finished (issue 11.3): ceremony.abandoned with the
 * reason, then the seal when the sealing key exists, so audit lists it apart from the chain. */
static int runner_abandon(struct runner *rn)
{
	const char *args[12];
	char sig[PATH_MAX];
	int n, done = 0, r;
	const char *at = NULL;

	if (!rn->started)
		return cer_err(CER_E_REFUSED, "%s: there is no ceremony to abandon (no transcript "
					      "yet); nothing was written",
			       rn->transcript);
	for (int i = 0; i < rn->script->n_steps; i++) {
		if (rn->script->steps[i].after_seal)
			continue;
		if (rn->done[i])
			done++;
		else if (at == NULL)
			at = rn->script->steps[i].id;
	}
	if (!rn->abandoned && (r = annex_commit(rn)) != 0) {
		fprintf(rn->out, "The confidential annex was not sealed: %s\n", cer_err_msg(r));
		cer_err_clear();
	}
	if (!rn->abandoned) {
		json_t *d = json_pack("{s:s, s:i, s:s?}", "reason", rn->o->abandon_reason,
				      "steps_done", done, "next_step", at);
		if ((r = runner_record(rn, "ceremony.abandoned", d)) != 0)
			return r;
	}
	fprintf(rn->out, "Ceremony abandoned after %d step%s: %s (recorded)\n", done,
		done == 1 ? "" : "s", rn->o->abandon_reason);
	if ((r = text_format(sig, sizeof(sig), "the transcript's seal path", "%s.sig",
			     rn->transcript)) != 0)
		return r;
	if (rn->script->seal == NULL) {
		fprintf(rn->out, "Not sealed: the script has no seal: section\n");
		return 0;
	}
	(void)seal_args(rn, "transcript", "seal", rn->transcript, args, &n);
	if ((r = run_as_sealer(rn, args, n)) != 0) {
		/* Often the sealing key was never made (a root key generation stopped early). */
		fprintf(rn->out, "Not sealed: %s. The abandonment is recorded; audit lists this "
				 "transcript as abandoned and unsealed.\n",
			cer_err_msg(r));
		cer_err_clear();
		return 0;
	}
	fprintf(rn->out, "Transcript sealed.\n");
	return 0;
}

/* The annex beside the internal records: ANNEX-FOLDER/<transcript name>.annex.jsonl; never in
 * the public transcripts' folder. Its earlier records are read, for a resumed run. */
static int annex_path(struct runner *rn)
{
	const char *xn[] = {"transcript"}, *xv[] = {rn->transcript};
	char dir[PATH_MAX], name[PATH_MAX], real_dir[PATH_MAX], tdir[PATH_MAX], real_tdir[PATH_MAX];
	const char *base = strrchr(rn->transcript, '/');
	size_t len;
	int r;

	if (rn->script->annex_dir == NULL)
		return 0;
	if ((r = script_expand(rn->script, rn->ctx->config, xn, xv, 1, rn->script->annex_dir, dir,
			       sizeof(dir))) != 0)
		return r;
	base = base != NULL ? base + 1 : rn->transcript;
	len = strlen(base);
	if (len > 6 && strcmp(base + len - 6, ".jsonl") == 0)
		len -= 6;
	if (snprintf(name, sizeof(name), "%.*s.annex.jsonl", (int)len, base) >= (int)sizeof(name) ||
	    snprintf(rn->annex, sizeof(rn->annex), "%s/%s", dir, name) >= (int)sizeof(rn->annex))
		return cer_err(CER_E_INPUT, "the annex's path is too long");
	if ((r = text_format(tdir, sizeof(tdir), "the transcript's folder", "%.*s",
			     base == rn->transcript ? 1 : (int)(base - 1 - rn->transcript),
			     base == rn->transcript ? "." : rn->transcript)) != 0)
		return r;
	if (realpath(dir, real_dir) == NULL)
		return cer_err(CER_E_NOTFOUND, "the annex folder %s (annex: in %s) is not there; "
					       "nothing was done",
			       dir, rn->script->path);
	if (realpath(tdir, real_tdir) != NULL && strcmp(real_dir, real_tdir) == 0)
		return cer_err(CER_E_REFUSED, "the annex folder %s is the public transcripts' folder: "
					      "the annex is confidential; nothing was done",
			       dir);
	if (file_exists(rn->annex))
		return transcript_each(rn->annex, annex_scan_cb, rn);
	return 0;
}

/* A killed run may have left a write's temporary file (NAME.tmp-XXXXXXXXXXXX) in a site
 * folder: remove those made before this run started, saying so. They were never finished
 * or recorded files, so the transcript does not change. */
static int runner_sweep_temps(struct runner *rn, const struct timespec *started)
{
	static const char *const keys[] = {"out",      "media",       "backup_media",
					   "internal", "transcripts", "kit_medium"};
	const char *dirs[sizeof(keys) / sizeof(keys[0]) + 2];
	char tdir[PATH_MAX], adir[PATH_MAX];
	size_t n = 0, removed = 0;
	int r;

	for (size_t i = 0; rn->ctx->config != NULL && i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((dirs[n] = config_get(rn->ctx->config, keys[i])) != NULL)
			n++;
	if ((r = text_copy(tdir, sizeof(tdir), "the transcript's path", rn->public_transcript)) != 0)
		return r;
	dirs[n++] = dirname(tdir);
	if (rn->annex[0] != '\0') {
		if ((r = text_copy(adir, sizeof(adir), "the annex's path", rn->annex)) != 0)
			return r;
		dirs[n++] = dirname(adir);
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		r = file_remove_stale_temps(dirs[i], started, rn->out, &removed);
	return r;
}

int runner_run(struct ceremony_ctx *ctx, const struct runner_opts *o, FILE *out)
{
	const struct config *cfg = NULL;
	struct runner rn;
	struct scan sc;
	struct timespec started;
	int r;

	memset(&rn, 0, sizeof(rn));
	if (clock_gettime(CLOCK_REALTIME, &started) != 0)
		return cer_err(CER_E_IO, "cannot read the clock: %s", strerror(errno));
	rn.ctx = ctx;
	rn.o = o;
	rn.out = out;
	if ((r = ctx_config(ctx, &cfg)) != 0 || (r = script_load(o->script_path, cfg, &rn.script)) != 0)
		return r;
	rn.transcript = ctx->transcript_path;
	rn.annex_steps.open = -1;
	if (o->dry_run) {
		if (rn.transcript == NULL)
			rn.transcript = "TRANSCRIPT";
		r = runner_dry_run(&rn);
		goto out;
	}
	if (rn.transcript == NULL) {
		r = cer_err(CER_E_USAGE, "run needs --transcript FILE (a new one, or one to resume)");
		goto out;
	}
	rn.public_transcript = rn.transcript;
	if ((r = annex_path(&rn)) != 0 || (r = runner_sweep_temps(&rn, &started)) != 0)
		goto out;
	/* Abandoning needs only the transcript: not the medium, not every command line. */
	if ((r = runner_answers_load(&rn)) != 0 ||
	    (o->abandon_reason == NULL && (r = runner_preflight(&rn)) != 0) ||
	    (r = runner_scan(&rn, &sc)) != 0)
		goto out;
	if (o->abandon_reason != NULL) {
		r = runner_abandon(&rn);
		goto out;
	}
	fprintf(out, "%s\nTranscript: %s%s\n", rn.script->title, rn.transcript,
		rn.resumed ? " (resuming)" : "");
	if (!rn.started)
		r = ceremony_start(&rn);
	else
		r = runner_record_resumed(&rn);
	if (r == 0)
		r = runner_check_requests(&rn);
	for (int i = 0; r == 0 && i < rn.script->n_steps; i++) {
		const struct script_step *st = &rn.script->steps[i];
		int command_done = 0;
		if (st->after_seal || rn.ended)
			continue;
		step_header(&rn, st);
		if (rn.done[i]) {
			fprintf(out, "      done in an earlier run\n");
			continue;
		}
		if (st->annex) {
			r = annex_step(&rn, i);
			continue;
		}
		if (rn.begun[i] && (r = step_resume(&rn, i, &sc, &command_done)) != 0)
			break;
		if (!rn.done[i])
			r = step_run(&rn, st, command_done);
	}
	if (r == 0)
		r = ceremony_finish(&rn);
out:
	json_decref(rn.start_manifest);
	json_decref(rn.notes);
	json_decref(rn.names);
	json_decref(rn.answers);
	script_free(rn.script);
	return r;
}

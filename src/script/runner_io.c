/* runner: the answers file, and questions asked on the terminal. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ceremony/err.h"
#include "ceremony/textbuf.h"
#include "ceremony/yamljson.h"
#include "runner_int.h"


/* 1 yes, 0 no, -1 neither. */
static int yes_no(const char *s)
{
	if (!strcasecmp(s, "y") || !strcasecmp(s, "yes"))
		return 1;
	if (!strcasecmp(s, "n") || !strcasecmp(s, "no"))
		return 0;
	return -1;
}


static int answers_role_ok(struct runner *rn, const char *role, json_t *v)
{
	const char *k;
	json_t *x;

	if (!json_is_object(v))
		return cer_err(CER_E_INPUT, "%s: roles.%s: a mapping (name, pin, so_pin, passphrase)",
			       rn->o->answers_path, role);
	json_object_foreach(v, k, x)
	{
		const char *s = json_string_value(x);
		if (s == NULL)
			return cer_err(CER_E_INPUT, "%s: roles.%s.%s: a text value", rn->o->answers_path,
				       role, k);
		if (strcmp(k, "name") == 0)
			continue;
		if (strcmp(k, "pin") && strcmp(k, "so_pin") && strcmp(k, "passphrase"))
			return cer_err(CER_E_INPUT, "%s: roles.%s.%s: unknown setting",
				       rn->o->answers_path, role, k);
		/* A source, never the secret itself. */
		if (strncmp(s, "file:", 5) != 0)
			return cer_err(CER_E_REFUSED,
				       "%s: roles.%s.%s must be a source (file:PATH), never the secret "
				       "itself",
				       rn->o->answers_path, role, k);
	}
	if (json_string_value(json_object_get(v, "name")) == NULL)
		return cer_err(CER_E_INPUT, "%s: roles.%s.name: who fills the role", rn->o->answers_path,
			       role);
	/* As long as a name typed at the prompt may be: never cut in a record. */
	if (strlen(json_string_value(json_object_get(v, "name"))) >= RUNNER_ANSWER_MAX)
		return cer_err(CER_E_INPUT, "%s: roles.%s.name: longer than %d bytes",
			       rn->o->answers_path, role, RUNNER_ANSWER_MAX - 1);
	return 0;
}

/* Every step's answers are checked before anything happens: a typo is never a decision. */
static int answers_steps_ok(struct runner *rn)
{
	const char *id, *k;
	json_t *v, *x;

	json_object_foreach(json_object_get(rn->answers, "steps"), id, v)
	{
		const char *d = json_string_value(json_object_get(v, "decision"));
		const char *by = json_string_value(json_object_get(v, "decided_by"));
		const char *happened = json_string_value(json_object_get(v, "happened"));
		json_t *c = json_object_get(v, "confirm");
		int known = 0;
		for (int i = 0; i < rn->script->n_steps; i++)
			known |= strcmp(rn->script->steps[i].id, id) == 0;
		if (!known)
			return cer_err(CER_E_INPUT, "%s: steps.%s: the script has no such step",
				       rn->o->answers_path, id);
		json_object_foreach(v, k, x)
		{
			if (strcmp(k, "confirm") && strcmp(k, "happened") && strcmp(k, "decision") &&
			    strcmp(k, "decided_by"))
				return cer_err(CER_E_INPUT, "%s: steps.%s.%s: unknown setting",
					       rn->o->answers_path, id, k);
		}
		if (json_object_get(v, "decision") != NULL &&
		    (d == NULL || (strcmp(d, "retry") && strcmp(d, "continue") && strcmp(d, "abort"))))
			return cer_err(CER_E_INPUT, "%s: steps.%s.decision: retry, continue or abort",
				       rn->o->answers_path, id);
		if (json_object_get(v, "decided_by") != NULL &&
		    (by == NULL || script_role_title(rn->script, by) == NULL))
			return cer_err(CER_E_INPUT, "%s: steps.%s.decided_by: not a role of this "
						    "ceremony",
				       rn->o->answers_path, id);
		if (happened != NULL && strlen(happened) >= RUNNER_ANSWER_MAX)
			return cer_err(CER_E_INPUT, "%s: steps.%s.happened: longer than %d bytes",
				       rn->o->answers_path, id, RUNNER_ANSWER_MAX - 1);
		if (c != NULL && !json_is_boolean(c) &&
		    (!json_is_string(c) || yes_no(json_string_value(c)) < 0))
			return cer_err(CER_E_INPUT, "%s: steps.%s.confirm: yes or no",
				       rn->o->answers_path, id);
	}
	return 0;
}

int runner_answers_load(struct runner *rn)
{
	json_t *roles;
	const char *k;
	json_t *v;
	int r;

	if (rn->o->answers_path == NULL)
		return 0;
	if ((r = yamljson_load(rn->o->answers_path, 64 * 1024, &rn->answers)) != 0)
		return r;
	if (!json_is_object(rn->answers))
		return cer_err(CER_E_INPUT, "%s: answers are a mapping", rn->o->answers_path);
	json_object_foreach(rn->answers, k, v)
	{
		if (strcmp(k, "confirm_all") && strcmp(k, "roles") && strcmp(k, "steps"))
			return cer_err(CER_E_INPUT, "%s: %s: unknown setting", rn->o->answers_path, k);
	}
	if ((r = answers_steps_ok(rn)) != 0)
		return r;
	roles = json_object_get(rn->answers, "roles");
	for (int i = 0; i < rn->script->n_roles; i++) {
		v = json_object_get(roles, rn->script->roles[i]);
		if (v == NULL)
			return cer_err(CER_E_INPUT, "%s: roles.%s: the script's role has no answer",
				       rn->o->answers_path, rn->script->roles[i]);
		if ((r = answers_role_ok(rn, rn->script->roles[i], v)) != 0)
			return r;
	}
	return 0;
}

const char *runner_secret_source(const struct runner *rn, const char *role, const char *what)
{
	if (rn->answers == NULL || role == NULL)
		return NULL;
	return json_string_value(
		json_object_get(json_object_get(json_object_get(rn->answers, "roles"), role), what));
}

const char *runner_role_name(const struct runner *rn, const char *role)
{
	return json_string_value(
		json_object_get(json_object_get(json_object_get(rn->answers, "roles"), role), "name"));
}

/* A line from the terminal (echo on), without its newline. */
static int ask_line(const char *prompt, char *buf, size_t size)
{
	FILE *tty = fopen("/dev/tty", "r+");
	size_t len;

	if (tty == NULL)
		return cer_err(CER_E_USAGE, "no terminal to ask on; give --answers FILE");
	fputs(prompt, tty);
	fflush(tty);
	if (fgets(buf, (int)size, tty) == NULL) {
		fclose(tty);
		return cer_err(CER_E_INPUT, "no answer on the terminal");
	}
	fclose(tty);
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	return 0;
}

static json_t *step_answer(const struct runner *rn, const struct script_step *st, const char *key)
{
	return json_object_get(json_object_get(json_object_get(rn->answers, "steps"), st->id), key);
}

/* An answer that is none of the expected ones: said, recorded (never its text: someone
 * may have typed a secret at the wrong prompt), and asked again. */
static int unrecognised(struct runner *rn, const struct script_step *st, const char *question,
			const char *expected, int try)
{
	fprintf(rn->out, "      not understood: please answer %s (try %d of %d)\n", expected, try,
		RUNNER_ASK_TRIES);
	return runner_record(rn, "step.unrecognised",
			     json_pack("{s:s, s:s, s:s, s:i, s:i}", "step", st->id, "question",
				       question, "expected", expected, "try", try, "tries",
				       RUNNER_ASK_TRIES));
}

int runner_confirm(struct runner *rn, const struct script_step *st, int *yes)
{
	char line[RUNNER_ANSWER_MAX], prompt[RUNNER_ANSWER_MAX + 64];
	json_t *a;
	int r;

	*yes = 0;
	if (rn->answers != NULL) {
		a = step_answer(rn, st, "confirm");
		if (a == NULL)
			a = json_object_get(rn->answers, "confirm_all");
		*yes = json_is_true(a) || (json_is_string(a) && yes_no(json_string_value(a)) == 1);
		fprintf(rn->out, "      %s: %s? [y/n] %s (answers)\n", st->role, st->confirm,
			*yes ? "y" : "n");
		return 0;
	}
	if (snprintf(prompt, sizeof(prompt), "      %s (%s): %s? [y/n] ", st->role,
		     script_role_title(rn->script, st->role), st->confirm) >= (int)sizeof(prompt))
		prompt[sizeof(prompt) - 1] = '\0';
	for (int try = 1; try <= RUNNER_ASK_TRIES; try++) {
		if ((r = ask_line(prompt, line, sizeof(line))) != 0)
			return r;
		if ((r = yes_no(line)) >= 0) {
			*yes = r;
			return 0;
		}
		if ((r = unrecognised(rn, st, "confirm", "y or n", try)) != 0)
			return r;
	}
	/* Never taken as a yes: the step is not confirmed, an exception follows. */
	fprintf(rn->out, "      no answer understood after %d tries: the step is not confirmed\n",
		RUNNER_ASK_TRIES);
	return 0;
}

static int decision_ok(const char *d, int retry_offered)
{
	return !strcmp(d, "continue") || !strcmp(d, "abort") ||
	       (retry_offered && !strcmp(d, "retry"));
}

/* The exception's decision and who decided, from the answers file. */
static int exception_from_answers(struct runner *rn, const struct script_step *st,
				  const char *happened_default, char *happened, size_t hsize,
				  char *decision, size_t dsize, char *by, size_t bsize)
{
	const char *s;
	int r;

	s = json_string_value(step_answer(rn, st, "happened"));
	if ((r = text_copy(happened, hsize, "happened", s != NULL ? s : happened_default)) != 0)
		goto out;
	s = json_string_value(step_answer(rn, st, "decision"));
	/* Without a recorded decision, a deviation stops the ceremony; a retry is taken once. */
	if (s == NULL || (!strcmp(s, "retry") && rn->retried[st->index] > 0))
		s = "abort";
	if ((r = text_copy(decision, dsize, "decision", s)) != 0)
		goto out;
	s = json_string_value(step_answer(rn, st, "decided_by"));
	if ((r = text_copy(by, bsize, "decided_by", s != NULL ? s : st->role)) != 0)
		goto out;
	if (script_role_title(rn->script, by) == NULL)
		return cer_err(CER_E_INPUT, "%s: steps.%s.decided_by: \"%s\" is not a role of this "
					    "ceremony",
			       rn->o->answers_path, st->id, by);
	return 0;
out:
	cer_err_prefix("%s: steps.%s: ", rn->o->answers_path, st->id);
	return r;
}

/* Ask until the answer is one of the choices; *got 0 when none was after the tries. */
static int ask_choice(struct runner *rn, const struct script_step *st, const char *question,
		      const char *prompt, const char *expected, int retry_offered, int roles,
		      char *buf, size_t size, int *got)
{
	int r;

	*got = 0;
	for (int try = 1; try <= RUNNER_ASK_TRIES; try++) {
		if ((r = ask_line(prompt, buf, size)) != 0)
			return r;
		if (roles ? script_role_title(rn->script, buf) != NULL
			  : decision_ok(buf, retry_offered)) {
			*got = 1;
			return 0;
		}
		if ((r = unrecognised(rn, st, question, expected, try)) != 0)
			return r;
	}
	return 0;
}

static void role_list(const struct runner *rn, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < rn->script->n_roles; i++) {
		int n = snprintf(buf + used, size - used, "%s%s", i > 0 ? ", " : "",
				 rn->script->roles[i]);
		if (n < 0 || (size_t)n >= size - used)
			return; /* a long list is cut; the prompt still names the question */
		used += (size_t)n;
	}
}

int runner_exception_ask(struct runner *rn, const struct script_step *st, const char *expected,
			 const char *happened_default, int retry_offered, json_t **exception)
{
	char happened[RUNNER_ANSWER_MAX], decision[64], by[64], roles[256], prompt[400];
	int r, got = 0;

	*exception = NULL;
	if (rn->answers != NULL) {
		if ((r = exception_from_answers(rn, st, happened_default, happened, sizeof(happened),
						decision, sizeof(decision), by, sizeof(by))) != 0)
			return r;
		if (!decision_ok(decision, retry_offered))
			return cer_err(CER_E_INPUT, "%s: steps.%s.decision: \"%s\" is not one of %s",
				       rn->o->answers_path, st->id, decision,
				       retry_offered ? "retry, continue, abort" : "continue, abort");
	} else {
		fprintf(rn->out, "      Exception at step %s. Expected: %s\n", st->id, expected);
		if ((r = ask_line("      What happened? ", happened, sizeof(happened))) != 0)
			return r;
		if (happened[0] == '\0' && (r = text_copy(happened, sizeof(happened),
							  "what happened", happened_default)) != 0)
			return r;
		if (retry_offered)
			fprintf(rn->out, "      retry: do the step again; continue: go on as if it were "
					 "done; abort: stop here (a later run resumes here)\n");
		r = ask_choice(rn, st, "decision",
			       retry_offered ? "      Decision (retry/continue/abort)? "
					     : "      Decision (continue/abort)? ",
			       retry_offered ? "retry, continue or abort" : "continue or abort",
			       retry_offered, 0, decision, sizeof(decision), &got);
		if (r != 0)
			return r;
		if (got) {
			role_list(rn, roles, sizeof(roles));
			if (snprintf(prompt, sizeof(prompt), "      Decided by (role: %s)? ", roles) >=
			    (int)sizeof(prompt))
				prompt[sizeof(prompt) - 1] = '\0';
			r = ask_choice(rn, st, "decided_by", prompt, "one of the ceremony's roles", 0, 1,
				       by, sizeof(by), &got);
			if (r != 0)
				return r;
		}
		if (!got) {
			/* No decision was made: never guess one. The exception is recorded as
			 * undecided and the ceremony stops where a later run resumes. */
			*exception = json_pack("{s:s, s:s, s:s, s:s, s:n}", "step", st->id,
					       "expected", expected, "happened", happened,
					       "decision", "undecided", "decided_by");
			return *exception == NULL ? cer_err(CER_E_NOMEM, "out of memory") : 0;
		}
	}
	*exception = json_pack("{s:s, s:s, s:s, s:s, s:s}", "step", st->id, "expected", expected,
			       "happened", happened, "decision", decision, "decided_by", by);
	return *exception == NULL ? cer_err(CER_E_NOMEM, "out of memory") : 0;
}

int runner_ask_names(struct runner *rn, json_t **roles)
{
	char name[RUNNER_ANSWER_MAX], prompt[256];
	int r;

	*roles = json_object();
	if (*roles == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (int i = 0; i < rn->script->n_roles; i++) {
		const char *role = rn->script->roles[i], *who = runner_role_name(rn, role);
		if (who == NULL) {
			if ((r = text_format(prompt, sizeof(prompt), "the question for a name",
					     "Who is %s (%s)? ", role,
					     rn->script->role_titles[i])) != 0)
				return r;
			name[0] = '\0';
			for (int try = 0; name[0] == '\0' && try < RUNNER_ASK_TRIES; try++)
				if ((r = ask_line(prompt, name, sizeof(name))) != 0)
					return r;
			if (name[0] == '\0')
				return cer_err(CER_E_INPUT, "no name given for %s; nothing was recorded",
					       role);
			who = name;
		}
		json_object_set_new(*roles, role,
				    json_pack("{s:s, s:s}", "title", rn->script->role_titles[i], "name",
					      who));
	}
	return 0;
}

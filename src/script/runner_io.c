/* runner: the answers file, and questions asked on the terminal. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ceremony/err.h"
#include "ceremony/yamljson.h"
#include "runner_int.h"

#define ANSWER_MAX 512

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

int runner_confirm(struct runner *rn, const struct script_step *st, int *yes)
{
	char line[ANSWER_MAX], prompt[ANSWER_MAX + 64];
	json_t *a;
	int r;

	*yes = 0;
	if (rn->answers != NULL) {
		a = step_answer(rn, st, "confirm");
		if (a == NULL)
			a = json_object_get(rn->answers, "confirm_all");
		*yes = json_is_string(a) && (strcmp(json_string_value(a), "yes") == 0 ||
					     strcmp(json_string_value(a), "true") == 0);
		fprintf(rn->out, "      %s: %s? [y/N] %s (answers)\n", st->role, st->confirm,
			*yes ? "y" : "n");
		return 0;
	}
	(void)snprintf(prompt, sizeof(prompt), "      %s: %s? [y/N] ", st->role, st->confirm);
	if ((r = ask_line(prompt, line, sizeof(line))) != 0)
		return r;
	*yes = strcmp(line, "y") == 0 || strcmp(line, "Y") == 0 || strcmp(line, "yes") == 0;
	return 0;
}

int runner_exception_ask(struct runner *rn, const struct script_step *st, const char *expected,
			 const char *happened_default, json_t **exception)
{
	char happened[ANSWER_MAX], decision[64], by[64];
	const char *s;
	int r;

	*exception = NULL;
	if (rn->answers != NULL) {
		s = json_string_value(step_answer(rn, st, "happened"));
		(void)snprintf(happened, sizeof(happened), "%s", s != NULL ? s : happened_default);
		s = json_string_value(step_answer(rn, st, "decision"));
		/* Without a recorded decision, a deviation stops the ceremony. */
		(void)snprintf(decision, sizeof(decision), "%s", s != NULL ? s : "abort");
		s = json_string_value(step_answer(rn, st, "decided_by"));
		(void)snprintf(by, sizeof(by), "%s", s != NULL ? s : st->role);
	} else {
		fprintf(rn->out, "      Exception at step %s. Expected: %s\n", st->id, expected);
		if ((r = ask_line("      What happened? ", happened, sizeof(happened))) != 0 ||
		    (r = ask_line("      Decision (continue/abort)? ", decision, sizeof(decision))) != 0 ||
		    (r = ask_line("      Decided by (role)? ", by, sizeof(by))) != 0)
			return r;
		if (happened[0] == '\0')
			(void)snprintf(happened, sizeof(happened), "%s", happened_default);
	}
	if (strcmp(decision, "continue") != 0 && strcmp(decision, "abort") != 0)
		(void)snprintf(decision, sizeof(decision), "abort");
	if (script_role_title(rn->script, by) == NULL)
		return cer_err(CER_E_INPUT, "step %s: \"%s\" is not a role of this ceremony", st->id, by);
	*exception = json_pack("{s:s, s:s, s:s, s:s, s:s}", "step", st->id, "expected", expected,
			       "happened", happened, "decision", decision, "decided_by", by);
	return *exception == NULL ? cer_err(CER_E_NOMEM, "out of memory") : 0;
}

int runner_ask_names(struct runner *rn, json_t **roles)
{
	char name[ANSWER_MAX], prompt[256];
	int r;

	*roles = json_object();
	if (*roles == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (int i = 0; i < rn->script->n_roles; i++) {
		const char *role = rn->script->roles[i], *who = runner_role_name(rn, role);
		if (who == NULL) {
			(void)snprintf(prompt, sizeof(prompt), "Who is %s (%s)? ", role,
				       rn->script->role_titles[i]);
			if ((r = ask_line(prompt, name, sizeof(name))) != 0)
				return r;
			who = name;
		}
		json_object_set_new(*roles, role,
				    json_pack("{s:s, s:s}", "title", rn->script->role_titles[i], "name",
					      who));
	}
	return 0;
}

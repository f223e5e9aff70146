/* runner: --dry-run, every step and the exact command, touching nothing. */
#include <stdlib.h>
#include <string.h>

#include "ceremony/config.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/termsafe.h"
#include "ceremony/textbuf.h"
#include "runner_int.h"

/* One word as a POSIX shell reads it back: bare if it holds only safe characters, else in
 * single quotes with each ' written '\'' ; control characters escaped for the terminal. */
static void print_word(FILE *out, const char *s)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789-_./=:,+@%";

	if (s[0] != '\0' && strspn(s, safe) == strlen(s)) {
		fputs(s, out);
		return;
	}
	fputc('\'', out);
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\'') {
			fputs("'\\''", out);
		} else {
			char one[2] = {*p, '\0'};
			size_t run = strcspn(p, "'");
			char *chunk = strndup(p, run);
			term_put(out, chunk != NULL ? chunk : one);
			if (chunk == NULL)
				continue;
			free(chunk);
			p += run - 1;
		}
	}
	fputc('\'', out);
}

static void print_command(struct runner *rn, json_t *display)
{
	size_t i;
	json_t *a;

	fprintf(rn->out, "        $ ceremony");
	json_array_foreach(display, i, a)
	{
		fputc(' ', rn->out);
		print_word(rn->out, json_string_value(a));
	}
	fprintf(rn->out, "\n");
}

static int dry_step(struct runner *rn, const struct script_step *st, int *last_act)
{
	char *argv[RUNNER_ARGV_MAX];
	json_t *display = NULL;
	int argc = 0, r;

	if (st->act != *last_act) {
		fprintf(rn->out, "\nAct %d — %s\n", st->act, st->act_title);
		*last_act = st->act;
	}
	char say[RUNNER_SAY_MAX];
	/* A step run once per entry of a confidential list is shown once, as written: the
	 * dry run is public and the entries' number is n (issue 11.5). */
	if (st->each != NULL) {
		rn->each_role = SCRIPT_EACH_ROLE;
		rn->each_card = "${each.card}";
	}
	r = runner_say(rn, st, say, sizeof(say));
	if (r == 0)
		fprintf(rn->out, "  %-8s %-4s %s%s\n", st->id, st->role, say,
			st->each != NULL  ? " (once for each entry of a confidential list; recorded "
					    "in the confidential annex)"
			: st->annex ? " (recorded in the confidential annex)"
				    : "");
	if (r == 0 && st->n_args > 0 && (r = runner_argv(rn, st, argv, &argc, &display)) == 0) {
		runner_argv_free(argv, argc);
		print_command(rn, display);
		json_decref(display);
	}
	rn->each_role = rn->each_card = NULL;
	if (r != 0)
		return r;
	if (st->confirm != NULL)
		fprintf(rn->out, "        %s confirms: %s? [y/n]\n", st->role, st->confirm);
	return 0;
}

/* Add each ${name} of text that neither the script nor ceremony.yaml sets to missing. */
static int missing_in(struct runner *rn, const char *text, const char *where, json_t *missing)
{
	char name[128], probe[140], out[SCRIPT_ARG_MAX];
	const char *p = text, *end;

	while (text != NULL && (p = strstr(p, "${")) != NULL) {
		end = strchr(p, '}');
		if (end == NULL || (size_t)(end - p - 2) >= sizeof(name))
			return 0; /* malformed: script_expand names it with its own message */
		memcpy(name, p + 2, (size_t)(end - p - 2));
		name[end - p - 2] = '\0';
		p = end + 1;
		/* Built in: the transcript, who fills each role, a confidential list's entry. */
		if (strcmp(name, "transcript") == 0 || strncmp(name, "name.", 5) == 0 ||
		    strcmp(name, "each.role") == 0 || strcmp(name, "each.card") == 0)
			continue;
		/* ${LIST.cards}: what is missing is the list. */
		if (strlen(name) > 6 && strcmp(name + strlen(name) - 6, ".cards") == 0 &&
		    (rn->ctx->config == NULL || config_get(rn->ctx->config, name) == NULL))
			name[strlen(name) - 6] = '\0';
		/* name is under 128 bytes: "${" and "}" around it fit in 140 */
		int r = text_format(probe, sizeof(probe), "a variable", "${%s}", name);
		if (r != 0)
			return r;
		if (script_expand(rn->script, rn->ctx->config, NULL, NULL, 0, probe, out,
				  sizeof(out)) == 0 ||
		    json_object_get(missing, name) != NULL)
			continue;
		cer_err_clear();
		if (json_object_set_new(missing, name, json_string(where)) != 0)
			return cer_err(CER_E_NOMEM, "out of memory");
	}
	return 0;
}

int runner_missing_vars(struct runner *rn)
{
	json_t *missing = json_object(), *v;
	char list[1024] = "";
	const char *k;
	size_t used = 0;
	int r = 0;

	if (missing == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	r = missing_in(rn, rn->script->media, "media", missing);
	json_object_foreach(rn->script->seal, k, v)
	if (r == 0)
		r = missing_in(rn, json_string_value(v), "seal", missing);
	for (int i = 0; r == 0 && i < rn->script->n_steps; i++) {
		const struct script_step *st = &rn->script->steps[i];
		for (int j = 0; r == 0 && j < st->n_args; j++)
			r = missing_in(rn, st->args[j], st->id, missing);
		/* The confidential lists a step runs over or takes its secrets' sources from. */
		for (int j = -1; r == 0 && j < st->n_lists; j++) {
			const char *l = j < 0 ? st->each : json_string_value(st->list_refs[j]);
			char lname[128];
			size_t len = l != NULL ? (j < 0 ? strlen(l) : (size_t)(strrchr(l, '.') - l)) : 0;
			if (l == NULL || len >= sizeof(lname))
				continue;
			memcpy(lname, l, len);
			lname[len] = '\0';
			if ((rn->ctx->config == NULL || config_get(rn->ctx->config, lname) == NULL) &&
			    json_object_get(missing, lname) == NULL &&
			    json_object_set_new(missing, lname, json_string(st->id)) != 0)
				r = cer_err(CER_E_NOMEM, "out of memory");
		}
	}
	json_object_foreach(missing, k, v)
	{
		int n = snprintf(list + used, sizeof(list) - used, "%s%s (%s%s)", used ? ", " : "", k,
				 strcmp(json_string_value(v), "media") &&
						 strcmp(json_string_value(v), "seal")
					 ? "step "
					 : "",
				 json_string_value(v));
		if (n < 0 || (size_t)n >= sizeof(list) - used)
			break; /* the first ones are named; that is enough to go and fix them */
		used += (size_t)n;
	}
	if (r == 0 && used > 0)
		r = cer_err(CER_E_INPUT,
			    "%s needs settings that neither the script nor the site configuration "
			    "(%s) has: %s; ceremony-scripts/ceremony.yaml.example shows each one; "
			    "nothing was done",
			    rn->script->path,
			    rn->ctx->config_path != NULL ? rn->ctx->config_path : "no --config given",
			    list);
	json_decref(missing);
	return r;
}

int runner_dry_run(struct runner *rn)
{
	char sha[100], media[4096];
	const char *xn[] = {"transcript"}, *xv[] = {rn->transcript};
	int last_act = 0, total = 0, r;

	if ((r = runner_missing_vars(rn)) != 0 || (r = runner_answers_load(rn)) != 0)
		return r;
	for (int i = 0; i < rn->script->n_steps; i++)
		total += !rn->script->steps[i].after_seal;
	hex_encode_grouped(rn->script->sha256, 32, sha);
	fprintf(rn->out, "Dry run: %s (%s)\nScript sha256 %s\n%d steps in %d acts. Nothing is run.\n",
		rn->script->title, rn->script->id, sha, total, rn->script->n_acts);
	fprintf(rn->out, "\nRoles:\n");
	for (int i = 0; i < rn->script->n_roles; i++)
		fprintf(rn->out, "  %-4s %s\n", rn->script->roles[i], rn->script->role_titles[i]);
	if (rn->script->media != NULL) {
		if ((r = script_expand(rn->script, rn->ctx->config, xn, xv, 1, rn->script->media, media,
				       sizeof(media))) != 0)
			return r;
		fprintf(rn->out, "\nMedium: %s (hashed at the start; MANIFEST.sha256 signed at the end)\n",
			media);
	}
	for (int i = 0; i < rn->script->n_steps; i++) {
		if (rn->script->steps[i].after_seal)
			continue;
		if ((r = dry_step(rn, &rn->script->steps[i], &last_act)) != 0)
			return r;
	}
	if (rn->script->seal != NULL) {
		char token[256], key[256];
		if ((r = script_expand(rn->script, rn->ctx->config, xn, xv, 1,
				       json_string_value(json_object_get(rn->script->seal, "token")),
				       token, sizeof(token))) != 0 ||
		    (r = script_expand(rn->script, rn->ctx->config, xn, xv, 1,
				       json_string_value(json_object_get(rn->script->seal, "key")), key,
				       sizeof(key))) != 0)
			return r;
		fprintf(rn->out, "\nEnd: %s seals the transcript with key \"%s\" on token \"%s\"\n",
			json_string_value(json_object_get(rn->script->seal, "role")), key, token);
	}
	for (int i = 0; i < rn->script->n_steps; i++)
		if (rn->script->steps[i].after_seal &&
		    (r = dry_step(rn, &rn->script->steps[i], &last_act)) != 0)
			return r;
	return 0;
}

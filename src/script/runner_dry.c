/* runner: --dry-run, every step and the exact command, touching nothing. */
#include <string.h>

#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "runner_int.h"

static void print_command(struct runner *rn, json_t *display)
{
	size_t i;
	json_t *a;

	fprintf(rn->out, "        $ ceremony");
	json_array_foreach(display, i, a)
	{
		const char *s = json_string_value(a);
		/* Quote what a shell would split. */
		if (strpbrk(s, " \t'\"$\\") != NULL || s[0] == '\0')
			fprintf(rn->out, " '%s'", s);
		else
			fprintf(rn->out, " %s", s);
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
	fprintf(rn->out, "  %-8s %-4s %s\n", st->id, st->role, st->say);
	if (st->n_args > 0) {
		if ((r = runner_argv(rn, st, argv, &argc, &display)) != 0)
			return r;
		runner_argv_free(argv, argc);
		print_command(rn, display);
		json_decref(display);
	}
	if (st->confirm != NULL)
		fprintf(rn->out, "        %s confirms: %s? [y/n]\n", st->role, st->confirm);
	return 0;
}

int runner_dry_run(struct runner *rn)
{
	char sha[100], media[4096];
	const char *xn[] = {"transcript"}, *xv[] = {rn->transcript};
	int last_act = 0, total = 0, r;

	if ((r = runner_answers_load(rn)) != 0)
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

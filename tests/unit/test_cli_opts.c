/*
 * The option tables are the one description of every option (src/cli, struct cli_opt):
 * for every command of every group, each option the parser accepts has a help line,
 * each option --help prints is accepted by the parser (run through cli_parse itself),
 * no name or value is given twice, and no table is too large for the parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ceremony/cli.h"
#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/script.h"

struct seen {
	int val;
	int count;
};

static int record(void *state, int c, const char *arg)
{
	struct seen *s = state;

	(void)arg;
	s->val = c;
	s->count++;
	return 0;
}

/* --help as printed, in a string the caller frees. */
static char *help_text(const struct cli_spec *spec)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	cli_help(spec, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* Is "--name" printed as an option at the start of a help line ("  --name", "  -v, --name")? */
static int help_names(const char *help, const char *name)
{
	char want[96];

	assert_true(snprintf(want, sizeof(want), "--%s", name) < (int)sizeof(want));
	for (const char *line = help; line != NULL && *line != '\0';) {
		const char *p = line;
		if (strncmp(p, "  -", 3) == 0 && p[3] != '-' && strncmp(p + 4, ", ", 2) == 0)
			p += 6;
		else if (strncmp(p, "  --", 4) == 0)
			p += 2;
		else
			p = NULL;
		if (p != NULL && strncmp(p, want, strlen(want)) == 0 &&
		    (p[strlen(want)] == ' ' || p[strlen(want)] == '\n'))
			return 1;
		line = strchr(line, '\n');
		line = line != NULL ? line + 1 : NULL;
	}
	return 0;
}

/* Every option --help prints at the start of a line is one of longopts. */
static void help_prints_only_accepted(const char *where, const char *help,
				      const struct option *longopts)
{
	for (const char *line = help; line != NULL && *line != '\0';) {
		const char *p = NULL;
		if (strncmp(line, "  --", 4) == 0)
			p = line + 4;
		else if (strncmp(line, "  -", 3) == 0 && strncmp(line + 4, ", --", 4) == 0)
			p = line + 8;
		if (p != NULL) {
			size_t n = strcspn(p, " \n");
			int found = 0;
			for (const struct option *o = longopts; o->name != NULL; o++)
				found |= strlen(o->name) == n && strncmp(o->name, p, n) == 0;
			if (!found)
				fail_msg("%s: --help prints --%.*s, which the parser does not accept",
					 where, (int)n, p);
		}
		line = strchr(line, '\n');
		line = line != NULL ? line + 1 : NULL;
	}
}

/* The options a table describes (through its includes): name, and whether --help prints
 * them itself (not when an include row prints a sentence instead, "every option of ..."). */
struct described {
	const char *name[CLI_LONGOPTS_MAX];
	int printed[CLI_LONGOPTS_MAX];
	size_t n;
};

static void describe(const char *where, const struct cli_opt *table, int printed,
		     struct described *d)
{
	for (const struct cli_opt *o = table; !CLI_OPT_IS_END(o); o++) {
		if (o->include != NULL)
			describe(where, o->include, printed && o->help == NULL, d);
		if (o->name == NULL)
			continue;
		if (o->help == NULL || o->help[0] == '\0')
			fail_msg("%s: --%s has no help text", where, o->name);
		assert_true(d->n < CLI_LONGOPTS_MAX);
		d->name[d->n] = o->name;
		d->printed[d->n++] = printed;
	}
}

static void check_spec(const char *where, const struct cli_spec *spec)
{
	struct option longopts[CLI_LONGOPTS_MAX];
	char shortopts[CLI_LONGOPTS_MAX];
	struct described d = {{NULL}, {0}, 0};
	size_t accepted = 0;
	char *help;

	assert_non_null(spec->usage);
	assert_int_equal(strncmp(spec->usage, "usage: ceremony", 15), 0);
	assert_int_equal(cli_longopts(spec, longopts, shortopts), 0);
	if (spec->opts != NULL)
		describe(where, spec->opts, 1, &d);
	describe(where, cli_common_opts, 1, &d);
	help = help_text(spec);
	help_prints_only_accepted(where, help, longopts);
	/* what the parser accepts is exactly what the tables describe */
	for (const struct option *o = longopts; o->name != NULL; o++)
		accepted++;
	assert_int_equal(accepted, d.n);
	for (size_t i = 0; i < d.n; i++) {
		assert_string_equal(longopts[i].name, d.name[i]);
		if (d.printed[i] && !help_names(help, d.name[i]))
			fail_msg("%s: --%s is accepted but --help does not print it", where, d.name[i]);
	}
	for (const struct option *o = longopts; o->name != NULL; o++) {
		/* once, with a value of its own */
		for (const struct option *p = o + 1; p->name != NULL; p++) {
			if (strcmp(o->name, p->name) == 0)
				fail_msg("%s: --%s is in the table twice", where, o->name);
			if (o->val == p->val)
				fail_msg("%s: --%s and --%s share a value", where, o->name, p->name);
		}
		if (o->val == 'h')
			continue;
		/* accepted by the parser itself, with its value */
		struct ceremony_ctx ctx;
		struct seen seen = {0, 0};
		char opt[96], *argv[4] = {"cmd", opt, "value", NULL};
		int first = 0;

		memset(&ctx, 0, sizeof(ctx));
		assert_true(snprintf(opt, sizeof(opt), "--%s", o->name) < (int)sizeof(opt));
		int argc = o->has_arg == required_argument ? 3 : 2;
		argv[argc] = NULL;
		if (cli_parse(&ctx, argc, argv, spec, record, &seen, &first) != 0)
			fail_msg("%s: the parser refuses --%s (%s)", where, o->name,
				 cer_err_msg(CER_E_USAGE));
		assert_int_equal(first, argc);
		if (o->val < OPT_MODULE || o->val >= OPT_COMMON_LAST) {
			assert_int_equal(seen.count, 1);
			assert_int_equal(seen.val, o->val);
		}
	}
	free(help);
}

static int checked;

static void check_verbs(const char *prefix, const struct cli_command *verbs)
{
	for (const struct cli_command *v = verbs; v->name != NULL; v++) {
		char where[128];

		assert_true(snprintf(where, sizeof(where), "%s %s", prefix, v->name) <
			    (int)sizeof(where));
		if (v->spec != NULL) {
			check_spec(where, v->spec);
			checked++;
		}
		if (v->verbs != NULL)
			check_verbs(where, v->verbs);
	}
}

static void test_every_option_is_documented_and_every_documented_one_accepted(void **state)
{
	(void)state;
	checked = 0;
	check_spec("ceremony", &cli_main_spec);
	check_verbs("ceremony", cli_groups);
	/* every group has a table, directly or through its verbs */
	for (const struct cli_command *g = cli_groups; g->name != NULL; g++)
		if (g->spec == NULL && g->verbs == NULL)
			fail_msg("ceremony %s: no option table", g->name);
	assert_true(checked > 30);
}

/* Is --name an option of some command (the tables, through their includes)? */
static int table_has(const struct cli_opt *table, const char *name)
{
	for (const struct cli_opt *o = table; !CLI_OPT_IS_END(o); o++)
		if ((o->include != NULL && table_has(o->include, name)) ||
		    (o->name != NULL && strcmp(o->name, name) == 0))
			return 1;
	return 0;
}

static int commands_have(const struct cli_command *cmds, const char *name)
{
	for (const struct cli_command *c = cmds; c->name != NULL; c++)
		if ((c->spec != NULL && c->spec->opts != NULL && table_has(c->spec->opts, name)) ||
		    (c->verbs != NULL && commands_have(c->verbs, name)))
			return 1;
	return 0;
}

/* The runner hides these from the public transcript: each must be a real option. */
static void test_the_confidential_options_exist(void **state)
{
	(void)state;
	for (size_t i = 0; i < SCRIPT_N_CONFIDENTIAL; i++) {
		const char *o = script_confidential_options[i];
		assert_int_equal(strncmp(o, "--", 2), 0);
		if (!commands_have(cli_groups, o + 2))
			fail_msg("script_confidential_options names %s, which no command accepts", o);
	}
	assert_false(commands_have(cli_groups, "no-such-option"));
}

static void test_an_undocumented_option_is_refused(void **state)
{
	static const struct cli_opt opts[] = {
		{.name = "token", .arg = "T", .val = 't', .help = "the token"},
		CLI_END,
	};
	static const struct cli_spec spec = {"usage: ceremony x --token T\n", opts};
	struct ceremony_ctx ctx;
	struct seen seen = {0, 0};
	char *argv[] = {"x", "--label", "L", NULL};
	int first;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(cli_parse(&ctx, 3, argv, &spec, record, &seen, &first), CER_E_USAGE);
	assert_int_equal(seen.count, 0);
}

static void test_help_prints_the_table(void **state)
{
	static const struct cli_opt inner[] = {
		{.name = "approvers", .arg = "ROLES", .val = 'a', .help = "who approves"},
		CLI_END,
	};
	static const struct cli_opt opts[] = {
		{.name = "token", .arg = "T", .val = 't', .help = "the token\nsecond line"},
		{.name = "allow-something-long", .val = 'l', .help = "long"},
		{.help = "A note.\n"},
		{.include = inner},
		CLI_END,
	};
	static const struct cli_spec spec = {"usage: ceremony x\n", opts};
	char *help;

	(void)state;
	help = help_text(&spec);
	assert_non_null(strstr(help, "usage: ceremony x\n\n"
				     "  --token T             the token\n"
				     "                        second line\n"
				     "  --allow-something-long  long\n"
				     "A note.\n"
				     "  --approvers ROLES     who approves\n"
				     "\nCommon options (before or after the command):\n"
				     "  --module PATH "));
	free(help);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_option_is_documented_and_every_documented_one_accepted),
		cmocka_unit_test(test_the_confidential_options_exist),
		cmocka_unit_test(test_an_undocumented_option_is_refused),
		cmocka_unit_test(test_help_prints_the_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

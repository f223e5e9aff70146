/* Unit tests of CLI parsing: common options anywhere, exit codes, required options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ceremony/cli.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/err.h"

struct opts {
	const char *token;
	int seen;
};

static int handle(void *state, int c, const char *arg)
{
	struct opts *o = state;
	if (c != 't')
		return -1;
	o->token = arg;
	o->seen++;
	return 0;
}

static const struct cli_opt opts[] = {
	{.name = "token", .arg = "T", .val = 't', .help = "the token"},
	CLI_END,
};
static const struct cli_spec spec = {"usage: ceremony x --token T\n", opts};

static int parse(struct ceremony_ctx *ctx, struct opts *o, int argc, char **argv, int *first)
{
	memset(ctx, 0, sizeof(*ctx));
	memset(o, 0, sizeof(*o));
	return cli_parse(ctx, argc, argv, &spec, handle, o, first);
}

static void test_cli_accepts_common_options_after_the_command(void **state)
{
	char *argv[] = {"generate", "--token", "root-hsm", "--transcript", "t.jsonl",
			"--pin-source", "file:/p", "--module", "/m.so", "extra", NULL};
	struct ceremony_ctx ctx;
	struct opts o;
	int first = -1;
	(void)state;
	assert_int_equal(parse(&ctx, &o, 10, argv, &first), 0);
	assert_string_equal(o.token, "root-hsm");
	assert_string_equal(ctx.transcript_path, "t.jsonl");
	assert_string_equal(ctx.pin_source, "file:/p");
	assert_string_equal(ctx.module_path, "/m.so");
	assert_int_equal(first, 9);
	assert_string_equal(argv[first], "extra");
}

static void test_cli_rejects_unknown_option_as_usage_error(void **state)
{
	char *argv[] = {"generate", "--bogus", NULL};
	struct ceremony_ctx ctx;
	struct opts o;
	int first;
	(void)state;
	int r = parse(&ctx, &o, 2, argv, &first);
	assert_int_equal(r, CER_E_USAGE);
	assert_int_equal(cer_exit_code(r), 2);
	assert_non_null(strstr(cer_err_msg(r), "--bogus"));
}

static void test_cli_rejects_missing_value(void **state)
{
	char *argv[] = {"generate", "--token", NULL};
	struct ceremony_ctx ctx;
	struct opts o;
	int first;
	(void)state;
	assert_int_equal(parse(&ctx, &o, 2, argv, &first), CER_E_USAGE);
}

static void test_cli_help_returns_one(void **state)
{
	char *argv[] = {"generate", "--help", NULL};
	struct ceremony_ctx ctx;
	struct opts o;
	int first;
	(void)state;
	assert_int_equal(parse(&ctx, &o, 2, argv, &first), 1);
}

static void test_cli_require_names_the_option(void **state)
{
	(void)state;
	int r = cli_require(NULL, "--label", "usage: ceremony token init --label L\n");
	assert_int_equal(r, CER_E_USAGE);
	assert_non_null(strstr(cer_err_msg(r), "--label is required"));
	assert_int_equal(cli_require("x", "--label", NULL), 0);
}

static void test_cli_transcript_is_required_for_changes(void **state)
{
	struct ceremony_ctx ctx;
	const char *p = "x";
	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(ctx_transcript_path(&ctx, "key generate", &p), CER_E_USAGE);
	assert_null(p);
	ctx.transcript_path = "t.jsonl";
	assert_int_equal(ctx_transcript_path(&ctx, "key generate", &p), 0);
	assert_string_equal(p, "t.jsonl");
}

static void test_cli_module_from_option_then_environment(void **state)
{
	struct ceremony_ctx ctx;
	const char *m = NULL;
	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	ctx.module_path = "/opt/a.so";
	setenv("CEREMONY_MODULE", "/opt/b.so", 1);
	ctx_read_env(&ctx);
	assert_int_equal(ctx_module_path(&ctx, &m), 0);
	assert_string_equal(m, "/opt/a.so");
	ctx.module_path = NULL;
	assert_int_equal(ctx_module_path(&ctx, &m), 0);
	assert_string_equal(m, "/opt/b.so");
	unsetenv("CEREMONY_MODULE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_accepts_common_options_after_the_command),
		cmocka_unit_test(test_cli_rejects_unknown_option_as_usage_error),
		cmocka_unit_test(test_cli_rejects_missing_value),
		cmocka_unit_test(test_cli_help_returns_one),
		cmocka_unit_test(test_cli_require_names_the_option),
		cmocka_unit_test(test_cli_transcript_is_required_for_changes),
		cmocka_unit_test(test_cli_module_from_option_then_environment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

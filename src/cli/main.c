/* ceremony — offline root CA key ceremonies on PKCS#11 HSMs. */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "ceremony/cli.h"
#include "ceremony/commands.h"
#include "ceremony/config.h"
#include "ceremony/err.h"
#include "ceremony/secret.h"

static void main_help(FILE *f)
{
	cli_help(&cli_main_spec, f);
	fprintf(f, "\nCommands:\n");
	for (const struct cli_command *c = cli_groups; c->name != NULL; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->summary);
	fprintf(f, "\nRun \"ceremony COMMAND --help\" for a command's own help.\n");
}

static int main_run(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct option longopts[CLI_LONGOPTS_MAX];
	char shortopts[CLI_LONGOPTS_MAX + 1] = "+"; /* "+": stop at the command */
	int c;

	if (cli_longopts(&cli_main_spec, longopts, shortopts + 1) != 0)
		return CER_E_INTERNAL;
	if (cli_options_exact(argc, argv, shortopts, longopts, 1, "usage: ceremony --help") != 0)
		return CER_E_USAGE;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h') {
			main_help(stdout);
			return 0;
		}
		if (c == 'V') {
			printf("ceremony %s\n", CEREMONY_VERSION);
			return 0;
		}
		if (c == '?' || cli_common_option(ctx, c, optarg) != 0)
			return cer_err(CER_E_USAGE,
				       "unknown option or missing value in \"%s\" (see ceremony --help)",
				       argv[optind - 1]);
	}
	if (optind >= argc)
		return cer_err(CER_E_USAGE, "which command? (see ceremony --help)");
	for (const struct cli_command *cmd = cli_groups; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, argv[optind]) == 0)
			return cmd->run(ctx, argc - optind, argv + optind);
	return cer_err(CER_E_USAGE, "unknown command \"%s\" (see ceremony --help)", argv[optind]);
}

int main(int argc, char **argv)
{
	struct ceremony_ctx ctx;
	int r;

	memset(&ctx, 0, sizeof(ctx));
	ctx_read_env(&ctx);
	if (ctx.env_test_argon2_set) {
		/* Issue 9 item 14: the variable once lowered the backup's cost silently. */
		fprintf(stderr, "ceremony: CEREMONY_TEST_ARGON2 is no longer read; unset it and put "
				"\"argon2_cost: test\" in ceremony.yaml or give --test-cost "
				"(--allow-test-cost for transcript verify and audit)\n");
		return cer_exit_code(CER_E_USAGE);
	}
	secret_notes_to(ctx.env_notes_fd);
	if ((r = secret_init()) != 0) {
		fprintf(stderr, "ceremony: %s\n", cer_err_msg(r));
		return cer_exit_code(r);
	}
	r = main_run(&ctx, argc, argv);
	if (r != 0)
		fprintf(stderr, "ceremony: %s\n", cer_err_msg(r));
	config_free(ctx.config);
	return cer_exit_code(r);
}

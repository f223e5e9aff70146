/* ceremony token list | init */
#include <stdio.h>
#include <string.h>

#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/rootops.h"

static const char list_usage[] =
	"usage: ceremony token list [options]\n"
	"\nLists the slots and tokens of the configured PKCS#11 module.\n\n" CLI_COMMON_HELP;

static const char init_usage[] =
	"usage: ceremony token init --label LABEL --transcript FILE [options]\n"
	"\nInitialises the first uninitialised token of the module with LABEL and sets its\n"
	"security officer PIN (--so-pin-source, else asked twice on the terminal) and\n"
	"user PIN (--pin-source, else asked twice). Refuses a label that already exists.\n"
	"\n  --label LABEL         the new token's label (1 to 32 bytes)\n\n" CLI_COMMON_HELP;

static int cmd_token_list(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
	int first, r;

	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, list_usage, NULL, NULL, &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(list_usage, "token list takes no arguments");
	return rootops_token_list(ctx, stdout);
}

static int init_opt(void *state, int c, const char *arg)
{
	const char **label = state;

	if (c != 'l')
		return -1;
	*label = arg;
	return 0;
}

static int cmd_token_init(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"label", required_argument, NULL, 'l'}, CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
	const char *label = NULL;
	int first, r;

	if ((r = cli_getopt(ctx, argc, argv, "hl:", longopts, init_usage, init_opt, &label,
			    &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(init_usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = cli_require(label, "--label", init_usage)) != 0)
		return r;
	return rootops_token_init(ctx, label, stdout);
}

static const struct cli_command token_commands[] = {
	{"list", cmd_token_list, "list slots and tokens (like pkcs11-tool -L)"},
	{"init", cmd_token_init, "initialise a token and set its SO and user PINs"},
	{NULL, NULL, NULL},
};

int cmd_token(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "token", "usage: ceremony token COMMAND [options]\n",
			    token_commands, argc, argv);
}

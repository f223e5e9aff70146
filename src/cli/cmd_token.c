/* ceremony token list | probe | init | set-user-pin | change-pin */
#include <stdio.h>
#include <string.h>

#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/tokenops.h"

static const char list_usage[] =
	"usage: ceremony token list [options]\n"
	"\nLists the slots and tokens of the configured PKCS#11 module.\n";

static const struct cli_opt list_opts[] = {
	CLI_END,
};

static const struct cli_spec list_spec = {list_usage, list_opts};

static const char probe_usage[] =
	"usage: ceremony token probe [--token T] [options]\n"
	"\nAsks each token (or the one named) what it can do, without a PIN and without\n"
	"changing anything: its PIN length rule, its flags (CKF_SO_PIN_TO_BE_CHANGED, ...),\n"
	"its mechanisms with key sizes, and which of the tool's operations it can serve:\n"
	"root key types, signing, RFC 5649 wrap for \"backup create\", unwrap for\n"
	"\"backup recover\", witness keys, random numbers, and whether its serial tells it\n"
	"apart from other tokens.\n";

static const struct cli_opt probe_opts[] = {
	{.name = "token", .arg = "T", .val = 't',
	 .help = "token label or PKCS#11 URI (default: every slot)"},
	CLI_END,
};

static const struct cli_spec probe_spec = {probe_usage, probe_opts};

static const char init_usage[] =
	"usage: ceremony token init --label LABEL --transcript FILE [options]\n"
	"\nInitialises the first uninitialised token of the module with LABEL and sets its\n"
	"security officer PIN (--so-pin-source, else asked twice on the terminal) and\n"
	"user PIN (--pin-source, else asked twice). States the token's PIN length rule\n"
	"before asking, and checks both PINs against it before anything changes. Refuses\n"
	"a label that already exists, and a token left flagged CKF_*_PIN_TO_BE_CHANGED.\n"
	"A token initialised but not finished is recorded (token.init_unfinished).\n";

static const struct cli_opt init_opts[] = {
	{.name = "label", .arg = "LABEL", .val = 'l',
	 .help = "the new token's label (1 to 32 bytes)"},
	{.name = "reinit", .val = 'r',
	 .help = "erase and initialise again the token labelled LABEL, only\n"
		 "if this transcript records that this ceremony created it;\n"
		 "needs its current SO PIN (kept) and a new user PIN",
	 .man = "Erase and initialise again the token labelled\n"
		".IR LABEL ,\n"
		"only if this transcript records that this ceremony created it."},
	CLI_END,
};

static const struct cli_spec init_spec = {init_usage, init_opts};

static const char set_user_pin_usage[] =
	"usage: ceremony token set-user-pin --token T --transcript FILE [options]\n"
	"\nFinishes a half-initialised token (SO PIN set, no user PIN): the security officer\n"
	"logs in (--so-pin-source) and sets the user PIN (--pin-source, else asked twice),\n"
	"checked against the token's PIN length rule first. Refuses a token that already\n"
	"has a user PIN.\n";

static const struct cli_opt set_user_pin_opts[] = {
	{.name = "token", .arg = "T", .val = 't',
	 .help = "token label or PKCS#11 URI"},
	CLI_END,
};

static const struct cli_spec set_user_pin_spec = {set_user_pin_usage, set_user_pin_opts};

static const char change_pin_usage[] =
	"usage: ceremony token change-pin --token T [--so] --transcript FILE [options]\n"
	"\nChanges the user PIN (or with --so the security officer PIN: a default SO PIN, or\n"
	"one flagged CKF_SO_PIN_TO_BE_CHANGED) with C_SetPIN. The current PIN comes from\n"
	"--pin-source (--so-pin-source with --so), the new one from --new-pin-source, else\n"
	"it is asked twice; it is checked against the token's PIN length rule first.\n";

static const struct cli_opt change_pin_opts[] = {
	{.name = "token", .arg = "T", .val = 't',
	 .help = "token label or PKCS#11 URI"},
	{.name = "so", .val = 's',
	 .help = "change the security officer PIN",
	 .man = "Change the security officer PIN."},
	{.name = "new-pin-source", .arg = "SRC", .val = 'n',
	 .help = "where the new PIN comes from (file:PATH)",
	 .man = "Where the new PIN comes from\n"
		".RB ( file: \\fIPATH\\fR)."},
	CLI_END,
};

static const struct cli_spec change_pin_spec = {change_pin_usage, change_pin_opts};

struct token_opts {
	const char *token, *label, *new_pin_source;
	int reinit, so;
};

static int token_opt(void *state, int c, const char *arg)
{
	struct token_opts *o = state;

	switch (c) {
	case 't': o->token = arg; return 0;
	case 'l': o->label = arg; return 0;
	case 'n': o->new_pin_source = arg; return 0;
	case 'r': o->reinit = 1; return 0;
	case 's': o->so = 1; return 0;
	default: return -1;
	}
}

static int token_parse(struct ceremony_ctx *ctx, int argc, char **argv,
		       const struct cli_spec *spec, struct token_opts *o)
{
	int first, r;

	if ((r = cli_parse(ctx, argc, argv, spec, token_opt, o, &first)) != 0)
		return r;
	if (first != argc)
		return cli_usage_error(spec->usage, "unexpected argument \"%s\"", argv[first]);
	return 0;
}

static int cmd_token_list(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct token_opts o = {0};
	int r;

	if ((r = token_parse(ctx, argc, argv, &list_spec, &o)) != 0)
		return r > 0 ? 0 : r;
	return tokenops_list(ctx, stdout);
}

static int cmd_token_probe(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct token_opts o = {0};
	int r;

	if ((r = token_parse(ctx, argc, argv, &probe_spec, &o)) != 0)
		return r > 0 ? 0 : r;
	return tokenops_probe(ctx, o.token, stdout);
}

static int cmd_token_init(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct token_opts o = {0};
	int r;

	if ((r = token_parse(ctx, argc, argv, &init_spec, &o)) != 0)
		return r > 0 ? 0 : r;
	if ((r = cli_require(o.label, "--label", init_usage)) != 0)
		return r;
	return tokenops_init(ctx, o.label, o.reinit, stdout);
}

static int cmd_token_set_user_pin(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct token_opts o = {0};
	int r;

	if ((r = token_parse(ctx, argc, argv, &set_user_pin_spec, &o)) != 0)
		return r > 0 ? 0 : r;
	if ((r = cli_require(o.token, "--token", set_user_pin_usage)) != 0)
		return r;
	return tokenops_set_user_pin(ctx, o.token, stdout);
}

static int cmd_token_change_pin(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct token_opts o = {0};
	int r;

	if ((r = token_parse(ctx, argc, argv, &change_pin_spec, &o)) != 0)
		return r > 0 ? 0 : r;
	if ((r = cli_require(o.token, "--token", change_pin_usage)) != 0)
		return r;
	return tokenops_change_pin(ctx, o.token, o.so, o.new_pin_source, stdout);
}

const struct cli_command cmd_token_verbs[] = {
	{"list", cmd_token_list, "list slots and tokens (like pkcs11-tool -L)", &list_spec, NULL},
	{"probe", cmd_token_probe, "say what each token can do, before anything changes", &probe_spec, NULL},
	{"init", cmd_token_init, "initialise a token and set its SO and user PINs", &init_spec, NULL},
	{"set-user-pin", cmd_token_set_user_pin, "finish a half-initialised token (SO sets the user PIN)", &set_user_pin_spec, NULL},
	{"change-pin", cmd_token_change_pin, "change the user or SO PIN (C_SetPIN)", &change_pin_spec, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_token(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "token", "usage: ceremony token COMMAND [options]\n",
			    cmd_token_verbs, argc, argv);
}

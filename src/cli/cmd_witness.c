/* ceremony witness register */
#include <stdio.h>
#include <string.h>

#include "ceremony/approve.h"
#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/witness.h"

struct witness_opts {
	const char *token, *label, *role, *name, *waive;
	struct approve_opts approve;
};

static const char register_usage[] =
	"usage: ceremony witness register --token CARD --label L --role ROLE --name NAME\n"
	"                                 --transcript FILE [options]\n"
	"\nGives a witness or Key Executive a signing key on their own card and records it:\n"
	"generates an EC P-256 key that never leaves the card (sensitive, not extractable,\n"
	"signing only, a random CKA_ID), or reads the one already labelled L, and appends\n"
	"a witness.register record (role, name, card, key, evidence, public key and its\n"
	"SHA-256). Countersignatures by that role are checked against this key.\n"
	"\n  --token CARD          the witness's card: token label or PKCS#11 URI\n"
	"  --label L             the key's label on the card\n"
	"  --role ROLE           IW, KE1, SO, ... (letters, digits, - and _)\n"
	"  --name NAME           who holds the card (recorded in the transcript)\n"
	"  --waive CKA_X[,...]   what the card's module cannot honour (as key generate's;\n"
	"                        \"none\" for nothing); recorded, stored beside the key\n"
	"(--pin-source is the card's PIN; default: asked on the terminal.)\n"
	"Once the CA's history holds a quorum policy, a new officer is an officer-register\n"
	"operation the quorum approves (docs/quorum.md):\n" APPROVE_HELP "\n" CLI_COMMON_HELP;

static int witness_opt(void *state, int c, const char *arg)
{
	struct witness_opts *o = state;

	switch (c) {
	case 't': o->token = arg; return 0;
	case 'l': o->label = arg; return 0;
	case 'r': o->role = arg; return 0;
	case 'n': o->name = arg; return 0;
	case OPT_APPROVERS: o->approve.approvers = arg; return 0;
	case OPT_APPROVER_PINS: o->approve.pin_sources = arg; return 0;
	case 'w': o->waive = arg; return 0;
	default: return -1;
	}
}

static int cmd_witness_register(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"token", required_argument, NULL, 't'}, {"label", required_argument, NULL, 'l'},
		{"role", required_argument, NULL, 'r'},	 {"name", required_argument, NULL, 'n'},
		{"waive", required_argument, NULL, 'w'}, APPROVE_OPTIONS,
		CLI_COMMON_OPTIONS,			 {NULL, 0, NULL, 0}};
	struct witness_opts o;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, register_usage, witness_opt, &o,
			    &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(register_usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = cli_require(o.token, "--token", register_usage)) != 0 ||
	    (r = cli_require(o.label, "--label", register_usage)) != 0 ||
	    (r = cli_require(o.role, "--role", register_usage)) != 0 ||
	    (r = cli_require(o.name, "--name", register_usage)) != 0)
		return r;
	return witness_register(ctx, o.token, o.label, o.role, o.name, o.waive, &o.approve, stdout);
}

static const struct cli_command witness_commands[] = {
	{"register", cmd_witness_register, "give a witness a card key and record it"},
	{NULL, NULL, NULL},
};

int cmd_witness(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "witness", "usage: ceremony witness COMMAND [options]\n",
			    witness_commands, argc, argv);
}

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
	"SHA-256). Countersignatures by that role are checked against this key.\n";

static const struct cli_opt register_opts[] = {
	{.name = "token", .arg = "CARD", .val = 't',
	 .help = "the witness's card: token label or PKCS#11 URI"},
	{.name = "label", .arg = "L", .val = 'l',
	 .help = "the key's label on the card"},
	{.name = "role", .arg = "ROLE", .val = 'r',
	 .help = "IW, KE1, SO, ... (letters, digits, - and _)",
	 .man = ".BR IW ,\n"
		".BR KE1 ,\n"
		".BR SO ,\n"
		"\\&... (letters, digits,\n"
		".B -\n"
		"and\n"
		".BR _ )."},
	{.name = "name", .arg = "NAME", .val = 'n',
	 .help = "who holds the card (recorded in the transcript)"},
	{.name = "waive", .arg = "CKA_X[,...]", .val = 'w',
	 .help = "what the card's module cannot honour (as key generate's;\n"
		 "\"none\" for nothing); recorded, stored beside the key",
	 .man = "What the card's module cannot honour (as\n"
		".BR \"key generate --waive\" ;\n"
		"e.g.\n"
		".B CKA_DECRYPT\n"
		"on tpm2-pkcs11;\n"
		".B none\n"
		"for nothing): recorded, stored beside the key."},
	{.help = "(--pin-source is the card's PIN; default: asked on the terminal.)\n"
		 "Once the CA's history holds a quorum policy, a new officer is an officer-register\n"
		 "operation the quorum approves (docs/quorum.md):\n",
	 .man = ".TP\n.BI --pin-source \" SRC\"\nThe card's PIN (default: asked on the terminal).\n"},
	{.include = cli_approve_opts,
	 .man = ".TP\n"
		".BI --approvers \" ROLES\"\n"
		"Once the CA's history holds a quorum policy, a new officer is an\n"
		".B officer\\-register\n"
		"operation: the officers who approve it, in order, comma-separated; each card\n"
		"signs an approval of the new key's SHA-256 before it is recorded (see\n"
		".BR ceremony-quorum (1)).\n"
		".TP\n"
		".BI --approver-pin-sources \" LIST\"\n"
		".BI file: PATH\n"
		"per approver, for their card PINs (default: each is asked on the terminal)."},
	CLI_END,
};

static const struct cli_spec register_spec = {register_usage, register_opts};

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
	struct witness_opts o;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_parse(ctx, argc, argv, &register_spec, witness_opt, &o,
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

const struct cli_command cmd_witness_verbs[] = {
	{"register", cmd_witness_register, "give a witness a card key and record it", &register_spec, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_witness(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "witness", "usage: ceremony witness COMMAND [options]\n",
			    cmd_witness_verbs, argc, argv);
}

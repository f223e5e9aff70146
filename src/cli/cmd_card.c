/* ceremony card show | verify | wipe: one Key Executive card. */
#include <stdio.h>
#include <string.h>

#include "ceremony/backup.h"
#include "ceremony/commands.h"
#include "ceremony/err.h"

static const char show_usage[] =
	"usage: ceremony card show CARD [options]\n"
	"\nLists the backup shares on a card (after its PIN; --pin-source or the terminal)\n"
	"without opening them: which backup, root, share index and holder each claims to be,\n"
	"and its Argon2id cost. CARD is a token label or a pkcs11: URI.\n\n" CLI_COMMON_HELP;

static const char verify_usage[] =
	"usage: ceremony card verify CARD --blob FILE [--passphrase-source file:P] [options]\n"
	"\nProves that the card and its executive's passphrase still open a valid share of\n"
	"the backup in FILE: the share is opened and checked against its salted commitment\n"
	"in the blob, alone, without any other share. Recorded when --transcript is given.\n"
	"\n  --blob FILE               the backup blob\n"
	"  --passphrase-source SRC   file:PATH (default: asked on the terminal)\n"
	"  --test-cost               accept a share sealed at the TEST Argon2id cost\n"
	"\n" CLI_COMMON_HELP;

static const char wipe_usage[] =
	"usage: ceremony card wipe CARD (--blob FILE | --backup ID | --all) --transcript T\n"
	"                          [options]\n"
	"\nDestroys the card's share of the backup in FILE (or of backup ID, or, with --all,\n"
	"every share object this tool wrote) and records it. For cards of a superseded\n"
	"backup, or a share an interrupted backup create left (its backup.intent record\n"
	"names the ID; card show lists it).\n"
	"\n  --blob FILE   only the share of this backup\n"
	"  --backup ID   only the share of backup ID (16 hex digits), when there is no blob\n"
	"  --all         every backup share on the card\n"
	"\n" CLI_COMMON_HELP;

enum { OPT_BLOB = OPT_COMMON_LAST + 1, OPT_PASSPHRASE_SOURCE, OPT_ALL, OPT_BACKUP, OPT_TEST_COST };

struct card_opts {
	const char *blob, *passphrase_source, *backup;
	int all, test_cost;
};

static int card_opt(void *state, int c, const char *arg)
{
	struct card_opts *o = state;

	switch (c) {
	case OPT_BLOB: o->blob = arg; return 0;
	case OPT_PASSPHRASE_SOURCE: o->passphrase_source = arg; return 0;
	case OPT_ALL: o->all = 1; return 0;
	case OPT_BACKUP: o->backup = arg; return 0;
	case OPT_TEST_COST: o->test_cost = 1; return 0;
	default: return -1;
	}
}

static const struct option card_longopts[] = {
	{"blob", required_argument, NULL, OPT_BLOB},
	{"passphrase-source", required_argument, NULL, OPT_PASSPHRASE_SOURCE},
	{"all", no_argument, NULL, OPT_ALL},
	{"backup", required_argument, NULL, OPT_BACKUP},
	{"test-cost", no_argument, NULL, OPT_TEST_COST},
	CLI_COMMON_OPTIONS,
	{NULL, 0, NULL, 0}};

/* Options and exactly one positional argument, the card. */
static int card_parse(struct ceremony_ctx *ctx, int argc, char **argv, const char *usage,
		      struct card_opts *o, const char **card)
{
	int first, r;

	memset(o, 0, sizeof(*o));
	if ((r = cli_getopt(ctx, argc, argv, "h", card_longopts, usage, card_opt, o, &first)) != 0)
		return r;
	if (first >= argc)
		return cli_usage_error(usage, "which card? (a token label or pkcs11: URI)");
	if (first + 1 != argc)
		return cli_usage_error(usage, "unexpected argument \"%s\"", argv[first + 1]);
	*card = argv[first];
	return 0;
}

static int cmd_card_show(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct card_opts o;
	const char *card;
	int r;

	if ((r = card_parse(ctx, argc, argv, show_usage, &o, &card)) != 0)
		return r > 0 ? 0 : r;
	if (o.blob != NULL || o.passphrase_source != NULL || o.all || o.backup != NULL ||
	    o.test_cost)
		return cli_usage_error(show_usage, "card show takes only the card");
	return backup_card_show(ctx, card, stdout);
}

static int cmd_card_verify(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct card_opts o;
	const char *card;
	int r;

	if ((r = card_parse(ctx, argc, argv, verify_usage, &o, &card)) != 0)
		return r > 0 ? 0 : r;
	if ((r = cli_require(o.blob, "--blob", verify_usage)) != 0)
		return r;
	if (o.all || o.backup != NULL)
		return cli_usage_error(verify_usage, "card verify takes no --all or --backup");
	return backup_card_verify(ctx, card, o.blob, o.passphrase_source, o.test_cost, stdout);
}

static int cmd_card_wipe(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct card_opts o;
	const char *card;
	int r;

	if ((r = card_parse(ctx, argc, argv, wipe_usage, &o, &card)) != 0)
		return r > 0 ? 0 : r;
	if ((o.blob != NULL) + (o.backup != NULL) + (o.all != 0) != 1)
		return cli_usage_error(wipe_usage, "give one of --blob FILE, --backup ID or --all");
	if (o.passphrase_source != NULL || o.test_cost)
		return cli_usage_error(wipe_usage, "card wipe needs no passphrase");
	return backup_card_wipe(ctx, card, o.blob, o.backup, stdout);
}

static const struct cli_command card_commands[] = {
	{"show", cmd_card_show, "list the backup shares on a card without opening them", NULL, NULL},
	{"verify", cmd_card_verify, "prove a card and passphrase open a valid share of a blob", NULL, NULL},
	{"wipe", cmd_card_wipe, "destroy a card's shares of a superseded backup", NULL, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_card(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "card",
			    "usage: ceremony card COMMAND [options]\n"
			    "\nKey Executive cards holding sealed backup shares (docs/backup.md).\n",
			    card_commands, argc, argv);
}

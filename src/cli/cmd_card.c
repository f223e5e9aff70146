/* ceremony card show | verify | wipe: one Key Executive card. */
#include <stdio.h>
#include <string.h>

#include "ceremony/backup.h"
#include "ceremony/commands.h"
#include "ceremony/err.h"

enum { OPT_BLOB = OPT_COMMON_LAST + 1, OPT_PASSPHRASE_SOURCE, OPT_ALL, OPT_BACKUP, OPT_TEST_COST };

static const char show_usage[] =
	"usage: ceremony card show CARD [options]\n"
	"\nLists the backup shares on a card (after its PIN; --pin-source or the terminal)\n"
	"without opening them: which backup, root, share index and holder each claims to be,\n"
	"and its Argon2id cost. CARD is a token label or a pkcs11: URI.\n";

static const struct cli_opt show_opts[] = {
	CLI_END,
};

static const struct cli_spec show_spec = {show_usage, show_opts};

static const char verify_usage[] =
	"usage: ceremony card verify CARD --blob FILE [--passphrase-source file:P] [options]\n"
	"\nProves that the card and its executive's passphrase still open a valid share of\n"
	"the backup in FILE: the share is opened and checked against its salted commitment\n"
	"in the blob, alone, without any other share. Recorded when --transcript is given.\n";

static const struct cli_opt verify_opts[] = {
	{.name = "blob", .arg = "FILE", .val = OPT_BLOB,
	 .help = "the backup blob"},
	{.name = "passphrase-source", .arg = "SRC", .val = OPT_PASSPHRASE_SOURCE,
	 .help = "file:PATH (default: asked on the terminal)",
	 .man = ".BI file: PATH\n"
		"(default: asked on the terminal)."},
	{.name = "test-cost", .val = OPT_TEST_COST,
	 .help = "accept a share sealed at the TEST Argon2id cost",
	 .man = "Accept a share sealed at the TEST Argon2id cost (announced; recorded)."},
	CLI_END,
};

static const struct cli_spec verify_spec = {verify_usage, verify_opts};

static const char wipe_usage[] =
	"usage: ceremony card wipe CARD (--blob FILE | --backup ID | --all) --transcript T\n"
	"                          [options]\n"
	"\nDestroys the card's share of the backup in FILE (or of backup ID, or, with --all,\n"
	"every share object this tool wrote) and records it. For cards of a superseded\n"
	"backup, or a share an interrupted backup create left (its backup.intent record\n"
	"names the ID; card show lists it).\n";

static const struct cli_opt wipe_opts[] = {
	{.name = "blob", .arg = "FILE", .val = OPT_BLOB,
	 .help = "only the share of this backup"},
	{.name = "backup", .arg = "ID", .val = OPT_BACKUP,
	 .help = "only the share of backup ID (16 hex digits), when there is no blob",
	 .man = "Only the share of backup\n"
		".I ID\n"
		"(16 lowercase hex digits), when there is no blob."},
	{.name = "all", .val = OPT_ALL,
	 .help = "every backup share on the card"},
	CLI_END,
};

static const struct cli_spec wipe_spec = {wipe_usage, wipe_opts};

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


/* Options and exactly one positional argument, the card. */
static int card_parse(struct ceremony_ctx *ctx, int argc, char **argv,
		      const struct cli_spec *spec, struct card_opts *o, const char **card)
{
	const char *usage = spec->usage;
	int first, r;

	memset(o, 0, sizeof(*o));
	if ((r = cli_parse(ctx, argc, argv, spec, card_opt, o, &first)) != 0)
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

	if ((r = card_parse(ctx, argc, argv, &show_spec, &o, &card)) != 0)
		return r > 0 ? 0 : r;
	return backup_card_show(ctx, card, stdout);
}

static int cmd_card_verify(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct card_opts o;
	const char *card;
	int r;

	if ((r = card_parse(ctx, argc, argv, &verify_spec, &o, &card)) != 0)
		return r > 0 ? 0 : r;
	if ((r = cli_require(o.blob, "--blob", verify_usage)) != 0)
		return r;
	return backup_card_verify(ctx, card, o.blob, o.passphrase_source, o.test_cost, stdout);
}

static int cmd_card_wipe(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct card_opts o;
	const char *card;
	int r;

	if ((r = card_parse(ctx, argc, argv, &wipe_spec, &o, &card)) != 0)
		return r > 0 ? 0 : r;
	if ((o.blob != NULL) + (o.backup != NULL) + (o.all != 0) != 1)
		return cli_usage_error(wipe_usage, "give one of --blob FILE, --backup ID or --all");
	return backup_card_wipe(ctx, card, o.blob, o.backup, stdout);
}

const struct cli_command cmd_card_verbs[] = {
	{"show", cmd_card_show, "list the backup shares on a card without opening them", &show_spec, NULL},
	{"verify", cmd_card_verify, "prove a card and passphrase open a valid share of a blob", &verify_spec, NULL},
	{"wipe", cmd_card_wipe, "destroy a card's shares of a superseded backup", &wipe_spec, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_card(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "card",
			    "usage: ceremony card COMMAND [options]\n"
			    "\nKey Executive cards holding sealed backup shares (docs/backup.md).\n",
			    cmd_card_verbs, argc, argv);
}

/* ceremony audit DIR */
#include <stdio.h>
#include <string.h>

#include "ceremony/audit.h"
#include "ceremony/backup.h"
#include "ceremony/cli_archive.h"
#include "ceremony/commands.h"
#include "ceremony/err.h"

static const char audit_usage[] =
	"usage: ceremony audit (--root root.pem | --allow-unanchored) [--partial] [--verbose]\n"
	"                      [--allow-test-cost] [--archive DIR] [--folder NAME=DIR]...\n"
	"                      [--outside DIR]... DIR\n"
	"\nReplays a root's whole life from its folder of transcripts, with no HSM. Orders\n"
	"them by each ceremony.begin record's link to the previous sealed transcript (one\n"
	"chain: a missing, forked, renamed or reordered ceremony is a fault); for each, in\n"
	"order: the hash chain, recorded files, the seal, every issued certificate against\n"
	"its CSR, profile and issuer, and every countersignature against the registered\n"
	"witness keys; over the whole history: serial numbers used once, CRL numbers\n"
	"increasing. Prints a line per ceremony, then the live certificates, revocations,\n"
	"backups and drills, and how each ceremony was run (answers file or terminal,\n"
	"exceptions, stops, resumes, air-gap overrides, test-cost settings). Abandoned\n"
	"ceremonies are listed apart, not as forks. Stops at the first fault, naming the\n"
	"file and line. What could not be checked (files not present, a ceremony still in\n"
	"progress) is listed, never marked \u2713, and fails the audit unless --partial.\n"
	"Exit 0 only if the whole history holds. See docs/audit.md.\n";

static const struct cli_opt audit_opts[] = {
	{.name = "root", .arg = "FILE", .val = 'r',
	 .help = "the root certificate every seal's signer must chain to and\n"
		 "every issuer must be (compare its fingerprint with paper)",
	 .man = "The root certificate every seal's signer must chain to and every issuer must\n"
		"be; compare its fingerprint with the paper record."},
	{.name = "allow-unanchored", .val = 'A',
	 .help = "without --root, take the root the first ceremony made: that\n"
		 "proves only that the history agrees with itself (UNANCHORED)",
	 .man = "Without\n"
		".BR --root ,\n"
		"take the root the first ceremony made.\n"
		"That proves only that the history agrees with itself (a history made with any\n"
		"key does), so it is refused unless this option is given, and the output says\n"
		".BR UNANCHORED ."},
	{.name = "partial", .val = 'p',
	 .help = "accept a partial audit: what could not be checked is listed\n"
		 "and the verdict says \"partial\", but the exit status is 0",
	 .man = "Accept a partial audit: what could not be checked is listed, the verdict says\n"
		"\"partial\", and the exit status is 0 if everything that was checked holds."},
	{.name = "verbose", .val = 'v', .short_name = 'v',
	 .help = "a verdict for every record"},
	{.name = "allow-test-cost", .val = 'T',
	 .help = "accept backups sealed at the test Argon2id cost (a test\n"
		 "history; a fault otherwise)",
	 .man = "Accept backups whose shares were sealed at the test Argon2id cost (a test\n"
		"history); without it such a ceremony is a fault. In a step of\n"
		".B ceremony run\n"
		"whose configuration says\n"
		".BR \"argon2_cost: test\" ,\n"
		"that key accepts them too, and the output names it."},
	{.name = "card", .arg = "CARD", .val = 'C',
	 .help = "also check a Key Executive card (its PIN: --pin-source or the\n"
		 "terminal): every backup share on it must belong to a backup\n"
		 "DIR records as made; repeat for several cards",
	 .man = "Also check a Key Executive card (its PIN:\n"
		".B --pin-source\n"
		"or the terminal): every backup share on it must belong to a backup that\n"
		".I DIR\n"
		"records as made\n"
		".RB ( backup.create\n"
		"or\n"
		".BR backup.rekey );\n"
		"a share of an unrecorded backup, or of one that only has its\n"
		".B backup.intent\n"
		"(an interrupted backup), is a fault, named with the\n"
		".B card wipe --backup\n"
		"command that removes it.\n"
		"Repeat for several cards."},
	{.include = cli_archive_table},
	CLI_END,
};

const struct cli_spec cmd_audit_spec = {audit_usage, audit_opts};

#define AUDIT_CARDS_MAX 16

struct audit_cli {
	struct audit_opts o;
	struct cli_archive_opts archive;
	const char *cards[AUDIT_CARDS_MAX];
	size_t ncards;
};

static int audit_opt(void *state, int c, const char *arg)
{
	struct audit_cli *cl = state;
	struct audit_opts *o = &cl->o;

	switch (c) {
	case 'C':
		if (cl->ncards == AUDIT_CARDS_MAX)
			return -1;
		cl->cards[cl->ncards++] = arg;
		return 0;
	case 'r': o->root_path = arg; return 0;
	case 'v': o->verbose = 1; return 0;
	case 'p': o->partial = 1; return 0;
	case 'T': o->test_cost_allowed = "--allow-test-cost"; return 0;
	case 'A': o->allow_unanchored = 1; return 0;
	default: return cli_archive_option(&cl->archive, c, arg) == 0 ? 0 : -1;
	}
}

int cmd_audit(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct audit_cli cl;

	memset(&cl, 0, sizeof(cl));
	int first, r;

	if ((r = cli_parse(ctx, argc, argv, &cmd_audit_spec, audit_opt, &cl, &first)) !=
	    0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(audit_usage, "give exactly one folder of transcripts");
	cl.o.dir = argv[first];
	if ((r = cli_archive_parse(&cl.archive, audit_usage)) != 0)
		return r;
	cl.o.view = cl.archive.view;
	if (cl.o.test_cost_allowed == NULL) {
		int cfg = 0;
		if ((r = ctx_argon2_test(ctx, &cfg)) != 0)
			return r;
		/* Only in a step of `ceremony run` (its notes pipe): an auditor's own run
		 * must say --allow-test-cost, whatever the site's configuration holds. */
		if (cfg && ctx->env_notes_fd >= 0)
			cl.o.test_cost_allowed = CTX_ARGON2_COST_CAUSE " (a step of ceremony run)";
	}
	r = audit_run(&cl.o, stdout);
	/* Issue 11 item 8: cards shown to the audit may hold shares no transcript accounts for. */
	for (size_t i = 0; r == 0 && i < cl.ncards; i++)
		r = backup_card_audit(ctx, cl.cards[i], cl.o.dir, stdout);
	return r;
}

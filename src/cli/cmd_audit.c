/* ceremony audit DIR */
#include <stdio.h>
#include <string.h>

#include "ceremony/audit.h"
#include "ceremony/backup.h"
#include "ceremony/commands.h"
#include "ceremony/err.h"

static const char audit_usage[] =
	"usage: ceremony audit (--root root.pem | --allow-unanchored) [--partial] [--verbose]\n"
	"                      [--allow-test-cost] DIR\n"
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
	"Exit 0 only if the whole history holds. See docs/audit.md.\n"
	"\n  --root FILE           the root certificate every seal's signer must chain to and\n"
	"                        every issuer must be (compare its fingerprint with paper)\n"
	"  --allow-unanchored    without --root, take the root the first ceremony made: that\n"
	"                        proves only that the history agrees with itself (UNANCHORED)\n"
	"  --partial             accept a partial audit: what could not be checked is listed\n"
	"                        and the verdict says \"partial\", but the exit status is 0\n"
	"  -v, --verbose         a verdict for every record\n"
	"  --allow-test-cost     accept backups sealed at the test Argon2id cost (a test\n"
	"                        history; a fault otherwise, as is CEREMONY_TEST_ARGON2=1)\n"
	"  --card CARD           also check a Key Executive card (its PIN: --pin-source or the\n"
	"                        terminal): every backup share on it must belong to a backup\n"
	"                        DIR records as made; repeat for several cards\n"
	"\n" CLI_COMMON_HELP;

#define AUDIT_CARDS_MAX 16

struct audit_cli {
	struct audit_opts o;
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
	default: return -1;
	}
}

int cmd_audit(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {{"root", required_argument, NULL, 'r'},
						 {"verbose", no_argument, NULL, 'v'},
						 {"partial", no_argument, NULL, 'p'},
						 {"allow-test-cost", no_argument, NULL, 'T'},
						 {"allow-unanchored", no_argument, NULL, 'A'},
						 {"card", required_argument, NULL, 'C'},
						 CLI_COMMON_OPTIONS,
						 {NULL, 0, NULL, 0}};
	struct audit_cli cl;

	memset(&cl, 0, sizeof(cl));
	int first, r;

	if ((r = cli_getopt(ctx, argc, argv, "hv", longopts, audit_usage, audit_opt, &cl, &first)) !=
	    0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(audit_usage, "give exactly one folder of transcripts");
	cl.o.dir = argv[first];
	if (cl.o.test_cost_allowed == NULL && ctx->env_test_argon2)
		cl.o.test_cost_allowed = "CEREMONY_TEST_ARGON2=1";
	r = audit_run(&cl.o, stdout);
	/* Issue 11 item 8: cards shown to the audit may hold shares no transcript accounts for. */
	for (size_t i = 0; r == 0 && i < cl.ncards; i++)
		r = backup_card_audit(ctx, cl.cards[i], cl.o.dir, stdout);
	return r;
}

/* ceremony audit DIR */
#include <stdio.h>

#include "ceremony/audit.h"
#include "ceremony/commands.h"
#include "ceremony/err.h"

static const char audit_usage[] =
	"usage: ceremony audit [--root root.pem] [--partial] [--verbose] [--allow-test-cost]\n"
	"                      DIR\n"
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
	"\n  --root FILE           the root certificate every seal and issuer must be (default:\n"
	"                        the one the first ceremony made)\n"
	"  --partial             accept a partial audit: what could not be checked is listed\n"
	"                        and the verdict says \"partial\", but the exit status is 0\n"
	"  -v, --verbose         a verdict for every record\n"
	"  --allow-test-cost     accept backups sealed at the test Argon2id cost (a test\n"
	"                        history; a fault otherwise, as is CEREMONY_TEST_ARGON2=1)\n"
	"\n" CLI_COMMON_HELP;

static int audit_opt(void *state, int c, const char *arg)
{
	struct audit_opts *o = state;

	switch (c) {
	case 'r': o->root_path = arg; return 0;
	case 'v': o->verbose = 1; return 0;
	case 'p': o->partial = 1; return 0;
	case 'T': o->test_cost_allowed = "--allow-test-cost"; return 0;
	default: return -1;
	}
}

int cmd_audit(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {{"root", required_argument, NULL, 'r'},
						 {"verbose", no_argument, NULL, 'v'},
						 {"partial", no_argument, NULL, 'p'},
						 {"allow-test-cost", no_argument, NULL, 'T'},
						 CLI_COMMON_OPTIONS,
						 {NULL, 0, NULL, 0}};
	struct audit_opts o = {NULL, NULL, 0, 0, NULL};
	int first, r;

	if ((r = cli_getopt(ctx, argc, argv, "hv", longopts, audit_usage, audit_opt, &o, &first)) !=
	    0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(audit_usage, "give exactly one folder of transcripts");
	o.dir = argv[first];
	if (o.test_cost_allowed == NULL && ctx->env_test_argon2)
		o.test_cost_allowed = "CEREMONY_TEST_ARGON2=1";
	return audit_run(&o, stdout);
}

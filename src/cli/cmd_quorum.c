/* ceremony quorum policy|retire|show */
#include <stdio.h>
#include <string.h>

#include "ceremony/approve.h"
#include "ceremony/commands.h"
#include "ceremony/err.h"

struct quorum_opts {
	const char *policy, *history, *role;
	struct approve_opts approve;
};

static const char policy_usage[] =
	"usage: ceremony quorum policy --policy FILE --transcript FILE [--history DIR]\n"
	"                              [--approvers ROLES --approver-pin-sources LIST] [options]\n"
	"\nFixes who must approve each use of the root key: for each operation (issue-ca,\n"
	"issue-ee, crl-sign, backup-create, backup-rekey, backup-recover, officer-register,\n"
	"officer-retire, policy-change), how many approvals of which roles (a role such as\n"
	"IW, or a class such as KE for KE1, KE2, ...). The first policy is fixed in the root\n"
	"key generation ceremony, after the officers' card keys are registered (witness\n"
	"register); a later one is a policy-change that the quorum in force approves with\n"
	"their cards. Records quorum.policy (the canonical policy and its SHA-256).\n"
	"\n  --policy FILE         the policy (YAML; ceremony-scripts/quorum-policy.yaml)\n"
	"  --history DIR         the folder of the CA's transcripts (default: the\n"
	"                        transcript's folder)\n" APPROVE_HELP "\n" CLI_COMMON_HELP;

static const char show_usage[] =
	"usage: ceremony quorum show (--transcript FILE | --history DIR) [options]\n"
	"\nPrints the quorum policy in force and the registered officers, read from the\n"
	"CA's transcripts (the transcript's folder, or --history DIR). Touches no card.\n"
	"\n  --history DIR         the folder of the CA's transcripts\n\n" CLI_COMMON_HELP;

static const char retire_usage[] =
	"usage: ceremony quorum retire --role ROLE --transcript FILE [--history DIR]\n"
	"                              --approvers ROLES [--approver-pin-sources LIST] [options]\n"
	"\nRetires an officer (who left, or whose card is lost): the quorum in force\n"
	"approves it with their cards (officer-retire, over the officer's key hash), then\n"
	"quorum.retire is recorded; from then on that key approves nothing. Refused if\n"
	"the policy could no longer be met without the officer.\n"
	"\n  --role ROLE           the officer to retire (KE5, ...)\n"
	"  --history DIR         the folder of the CA's transcripts\n" APPROVE_HELP
	"\n" CLI_COMMON_HELP;

static int quorum_opt(void *state, int c, const char *arg)
{
	struct quorum_opts *o = state;

	switch (c) {
	case 'p': o->policy = arg; return 0;
	case 'H': o->history = arg; return 0;
	case 'r': o->role = arg; return 0;
	case OPT_APPROVERS: o->approve.approvers = arg; return 0;
	case OPT_APPROVER_PINS: o->approve.pin_sources = arg; return 0;
	default: return -1;
	}
}

static int cmd_quorum_policy(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {{"policy", required_argument, NULL, 'p'},
						 {"history", required_argument, NULL, 'H'},
						 APPROVE_OPTIONS,
						 CLI_COMMON_OPTIONS,
						 {NULL, 0, NULL, 0}};
	struct quorum_opts o;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, policy_usage, quorum_opt, &o,
			    &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(policy_usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = cli_require(o.policy, "--policy", policy_usage)) != 0)
		return r;
	return approve_policy_set(ctx, o.policy, o.history, &o.approve, stdout);
}

static int cmd_quorum_show(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"history", required_argument, NULL, 'H'}, CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
	struct quorum_opts o;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, show_usage, quorum_opt, &o, &first)) !=
	    0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(show_usage, "unexpected argument \"%s\"", argv[first]);
	return approve_show(ctx, o.history, stdout);
}

static int cmd_quorum_retire(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {{"role", required_argument, NULL, 'r'},
						 {"history", required_argument, NULL, 'H'},
						 APPROVE_OPTIONS,
						 CLI_COMMON_OPTIONS,
						 {NULL, 0, NULL, 0}};
	struct quorum_opts o;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, retire_usage, quorum_opt, &o,
			    &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(retire_usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = cli_require(o.role, "--role", retire_usage)) != 0)
		return r;
	return approve_retire(ctx, o.role, o.history, &o.approve, stdout);
}

static const struct cli_command quorum_commands[] = {
	{"policy", cmd_quorum_policy, "fix or change who must approve each root operation", NULL, NULL},
	{"retire", cmd_quorum_retire, "retire an officer, with the quorum's approval", NULL, NULL},
	{"show", cmd_quorum_show, "print the quorum policy in force and the officers", NULL, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_quorum(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "quorum", "usage: ceremony quorum COMMAND [options]\n",
			    quorum_commands, argc, argv);
}

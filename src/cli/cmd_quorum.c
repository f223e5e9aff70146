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
	"their cards. Records quorum.policy (the canonical policy and its SHA-256).\n";

static const struct cli_opt policy_opts[] = {
	{.name = "policy", .arg = "FILE", .val = 'p',
	 .help = "the policy (YAML; ceremony-scripts/quorum-policy.yaml)",
	 .man = "The policy (YAML), e.g.\n"
		".IR ceremony-scripts/quorum-policy.yaml ."},
	{.name = "history", .arg = "DIR", .val = 'H',
	 .help = "the folder of the CA's transcripts (default: the\n"
		 "transcript's folder)"},
	{.include = cli_approve_opts,
	 .man = ".TP\n.BI --approvers \" ROLES\"\n"
		"For a change: the officers who approve, in order, comma-separated\n"
		".RB ( KE1,KE2,KE3,IW ).\n"
		".TP\n.BI --approver-pin-sources \" LIST\"\n.BI file: PATH\n"
		"per approver, for their card PINs (default: each is asked on the terminal).\n"},
	CLI_END,
};

static const struct cli_spec policy_spec = {policy_usage, policy_opts};

static const char show_usage[] =
	"usage: ceremony quorum show (--transcript FILE | --history DIR) [options]\n"
	"\nPrints the quorum policy in force and the registered officers, read from the\n"
	"CA's transcripts (the transcript's folder, or --history DIR). Touches no card.\n";

static const struct cli_opt show_opts[] = {
	{.name = "history", .arg = "DIR", .val = 'H',
	 .help = "the folder of the CA's transcripts"},
	CLI_END,
};

static const struct cli_spec show_spec = {show_usage, show_opts};

static const char retire_usage[] =
	"usage: ceremony quorum retire --role ROLE --transcript FILE [--history DIR]\n"
	"                              --approvers ROLES [--approver-pin-sources LIST] [options]\n"
	"\nRetires an officer (who left, or whose card is lost): the quorum in force\n"
	"approves it with their cards (officer-retire, over the officer's key hash), then\n"
	"quorum.retire is recorded; from then on that key approves nothing. Refused if\n"
	"the policy could no longer be met without the officer.\n";

static const struct cli_opt retire_opts[] = {
	{.name = "role", .arg = "ROLE", .val = 'r',
	 .help = "the officer to retire (KE5, ...)",
	 .man = "The officer to retire\n"
		".RB ( KE5 ,\n"
		"\\&...)."},
	{.name = "history", .arg = "DIR", .val = 'H',
	 .help = "the folder of the CA's transcripts"},
	{.include = cli_approve_opts},
	CLI_END,
};

static const struct cli_spec retire_spec = {retire_usage, retire_opts};

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
	struct quorum_opts o;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_parse(ctx, argc, argv, &policy_spec, quorum_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(policy_usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = cli_require(o.policy, "--policy", policy_usage)) != 0)
		return r;
	return approve_policy_set(ctx, o.policy, o.history, &o.approve, stdout);
}

static int cmd_quorum_show(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct quorum_opts o;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_parse(ctx, argc, argv, &show_spec, quorum_opt, &o, &first)) !=
	    0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(show_usage, "unexpected argument \"%s\"", argv[first]);
	return approve_show(ctx, o.history, stdout);
}

static int cmd_quorum_retire(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct quorum_opts o;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_parse(ctx, argc, argv, &retire_spec, quorum_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(retire_usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = cli_require(o.role, "--role", retire_usage)) != 0)
		return r;
	return approve_retire(ctx, o.role, o.history, &o.approve, stdout);
}

const struct cli_command cmd_quorum_verbs[] = {
	{"policy", cmd_quorum_policy, "fix or change who must approve each root operation", &policy_spec, NULL},
	{"retire", cmd_quorum_retire, "retire an officer, with the quorum's approval", &retire_spec, NULL},
	{"show", cmd_quorum_show, "print the quorum policy in force and the officers", &show_spec, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_quorum(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "quorum", "usage: ceremony quorum COMMAND [options]\n",
			    cmd_quorum_verbs, argc, argv);
}

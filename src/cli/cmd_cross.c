/* ceremony cert cross */
#include <stdio.h>
#include <string.h>

#include "ceremony/commands.h"
#include "ceremony/cross.h"
#include "ceremony/err.h"

enum { X_TOKEN = OPT_COMMON_LAST + 1, X_KEY, X_ISSUER, X_SUBJECT, X_PROFILE, X_OUT, X_HISTORY,
       X_MAY_ISSUE };

static const char cross_usage[] =
	"usage: ceremony cert cross --token T --key L --issuer-cert FILE --subject-cert FILE\n"
	"       --profile FILE --out FILE --transcript T [--old-root-may-issue] [--history DIR]\n"
	"\nA root rollover's cross certificate (RFC 4210 section 4.4): the issuing root's HSM key\n"
	"certifies the other root's subject and public key, under the root profile. With the old\n"
	"root's key and the new root's certificate it is old-with-new (devices that trust only\n"
	"the old root reach the new one); with the new root's key and the old root's certificate\n"
	"it is new-with-old. Both certificates must be self-signed roots with different keys.\n"
	"The serial is unique in the history; the certificate is verified before it is written;\n"
	"cert.cross is recorded. `ceremony audit` switches to the new root after the ceremony\n"
	"that made it and cross-certified it, and flags the old root issuing afterwards unless\n"
	"--old-root-may-issue was given (recorded). Never overwrites.\n";

static const struct cli_opt cross_opts[] = {
	{.name = "token", .arg = "T", .val = X_TOKEN,
	 .help = "token of the issuing root's key"},
	{.name = "key", .arg = "L", .val = X_KEY,
	 .help = "the issuing root's key label"},
	{.name = "issuer-cert", .arg = "FILE", .val = X_ISSUER,
	 .help = "the issuing root's certificate"},
	{.name = "subject-cert", .arg = "FILE", .val = X_SUBJECT,
	 .help = "the other root's certificate"},
	{.name = "profile", .arg = "FILE", .val = X_PROFILE,
	 .help = "a root profile"},
	{.name = "out", .arg = "FILE", .val = X_OUT,
	 .help = "the cross certificate (PEM, new)",
	 .man = "The cross certificate (PEM)."},
	{.name = "history", .arg = "DIR", .val = X_HISTORY,
	 .help = "the CA's transcripts (default: the transcript's folder)"},
	{.name = "old-root-may-issue", .val = X_MAY_ISSUE,
	 .help = "the old root may still issue after this rollover (recorded)",
	 .man = "After this rollover the old root may still issue (recorded; without it\n"
		".B ceremony audit\n"
		"flags such issuance)."},
	{.include = cli_approve_opts},
	CLI_END,
};

const struct cli_spec cmd_cert_cross_spec = {cross_usage, cross_opts};


static int cross_opt(void *state, int c, const char *arg)
{
	struct cross_params *p = state;

	switch (c) {
	case X_TOKEN: p->token = arg; return 0;
	case X_KEY: p->key = arg; return 0;
	case X_ISSUER: p->issuer_cert = arg; return 0;
	case X_SUBJECT: p->subject_cert = arg; return 0;
	case X_PROFILE: p->profile = arg; return 0;
	case X_OUT: p->out_path = arg; return 0;
	case X_HISTORY: p->history_dir = arg; return 0;
	case X_MAY_ISSUE: p->old_root_may_issue = 1; return 0;
	case OPT_APPROVERS: p->approve.approvers = arg; return 0;
	case OPT_APPROVER_PINS: p->approve.pin_sources = arg; return 0;
	default: return -1;
	}
}

int cmd_cert_cross(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct cross_params p;
	int first, r;

	memset(&p, 0, sizeof(p));
	if ((r = cli_parse(ctx, argc, argv, &cmd_cert_cross_spec, cross_opt, &p, &first)) != 0)
		return r > 0 ? 0 : r;
	if (argc - first != 0)
		return cli_usage_error(cross_usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = cli_require(p.token, "--token", cross_usage)) != 0 ||
	    (r = cli_require(p.key, "--key", cross_usage)) != 0 ||
	    (r = cli_require(p.issuer_cert, "--issuer-cert", cross_usage)) != 0 ||
	    (r = cli_require(p.subject_cert, "--subject-cert", cross_usage)) != 0 ||
	    (r = cli_require(p.profile, "--profile", cross_usage)) != 0 ||
	    (r = cli_require(p.out_path, "--out", cross_usage)) != 0)
		return r;
	return cross_sign(ctx, &p, stdout);
}

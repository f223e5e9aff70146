/* ceremony crl sign */
#include <stdio.h>
#include <stdlib.h>

#include "ceremony/commands.h"
#include "ceremony/crl.h"
#include "ceremony/err.h"

static const char sign_usage[] =
	"usage: ceremony crl sign --token T --key L --issuer root.pem --next-update DAYS\n"
	"                         [--revoke SERIAL --reason R]... [--allow-unknown-serial]\n"
	"                         --out root.crl --transcript FILE\n"
	"\nSigns the root's CRL in the HSM: version 2, authorityKeyIdentifier, a CRL number one\n"
	"above any in the CA's history (every *.jsonl beside the transcript, or --history DIR),\n"
	"every revocation the history records plus the new ones. An empty CRL is allowed.\n"
	"\n  --token T             token label or PKCS#11 URI\n"
	"  --key L               the root key's label\n"
	"  --issuer FILE         the root certificate\n"
	"  --revoke SERIAL       a positive serial number in hex that the CA issued (repeatable)\n"
	"  --reason R            the reason of the --revoke just before it (each needs its own):\n"
	"                        keyCompromise, cACompromise, affiliationChanged, superseded,\n"
	"                        cessationOfOperation, privilegeWithdrawn or unspecified;\n"
	"                        a CA certificate: one of the first five (BR 7.2.2); an end\n"
	"                        entity: never cACompromise\n"
	"  --allow-unknown-serial  also revoke serials the CA's history never issued (recorded)\n"
	"  --next-update DAYS    1 to 365 (CA/B BR 4.9.7)\n"
	"  --out FILE            where to write the PEM CRL (never overwritten)\n"
	"  --history DIR         the folder of the CA's transcripts\n" APPROVE_HELP
	"\n" CLI_COMMON_HELP;

static int sign_opt(void *state, int c, const char *arg)
{
	struct crl_opts *o = state;
	char *end;

	switch (c) {
	case 't': o->token = arg; return 0;
	case 'k': o->key = arg; return 0;
	case 'i': o->issuer = arg; return 0;
	case 'o': o->out = arg; return 0;
	case 'R':
		/* Each --reason belongs to the --revoke right before it. */
		if (o->n_revoke == 0 || o->reason[o->n_revoke - 1] != NULL)
			o->reason_misplaced = 1;
		else
			o->reason[o->n_revoke - 1] = arg;
		return 0;
	case 'U': o->allow_unknown_serial = 1; return 0;
	case 'H': o->history_dir = arg; return 0;
	case OPT_APPROVERS: o->approve.approvers = arg; return 0;
	case OPT_APPROVER_PINS: o->approve.pin_sources = arg; return 0;
	case 'n':
		o->next_update_days = strtol(arg, &end, 10);
		return *arg == '\0' || *end != '\0' ? -1 : 0;
	case 'r':
		if (o->n_revoke == CRL_MAX_REVOKE)
			return -1;
		o->revoke[o->n_revoke++] = arg;
		return 0;
	default: return -1;
	}
}

static int cmd_crl_sign(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"token", required_argument, NULL, 't'},   {"key", required_argument, NULL, 'k'},
		{"issuer", required_argument, NULL, 'i'},  {"out", required_argument, NULL, 'o'},
		{"reason", required_argument, NULL, 'R'},  {"revoke", required_argument, NULL, 'r'},
		{"next-update", required_argument, NULL, 'n'}, {"history", required_argument, NULL, 'H'},
		{"allow-unknown-serial", no_argument, NULL, 'U'},
		APPROVE_OPTIONS,
		CLI_COMMON_OPTIONS,			   {NULL, 0, NULL, 0}};
	struct crl_opts o = {0};
	int first, r;

	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, sign_usage, sign_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(sign_usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = cli_require(o.token, "--token", sign_usage)) != 0 ||
	    (r = cli_require(o.key, "--key", sign_usage)) != 0 ||
	    (r = cli_require(o.issuer, "--issuer", sign_usage)) != 0 ||
	    (r = cli_require(o.out, "--out", sign_usage)) != 0)
		return r;
	if (o.reason_misplaced)
		return cli_usage_error(sign_usage, "each --reason follows its own --revoke SERIAL");
	if (o.next_update_days == 0)
		return cli_usage_error(sign_usage, "--next-update DAYS is required");
	return crl_sign(ctx, &o, stdout);
}

static const struct cli_command crl_commands[] = {
	{"sign", cmd_crl_sign, "sign the root's CRL"},
	{NULL, NULL, NULL},
};

int cmd_crl(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "crl", "usage: ceremony crl COMMAND [options]\n", crl_commands, argc,
			    argv);
}

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
	"every revocation the history records plus the new ones. An empty CRL is allowed.\n";

static const struct cli_opt sign_opts[] = {
	{.name = "token", .arg = "T", .val = 't',
	 .help = "token label or PKCS#11 URI"},
	{.name = "key", .arg = "L", .val = 'k',
	 .help = "the root key's label"},
	{.name = "issuer", .arg = "FILE", .val = 'i',
	 .help = "the root certificate"},
	{.name = "revoke", .arg = "SERIAL", .val = 'r',
	 .help = "a positive serial number in hex that the CA issued (repeatable)",
	 .man = "A positive serial number in hex that the CA's history issued (repeatable).\n"
		"Serial 0 and negative serials are refused."},
	{.name = "reason", .arg = "R", .val = 'R',
	 .help = "the reason of the --revoke just before it (each needs its own):\n"
		 "keyCompromise, cACompromise, affiliationChanged, superseded,\n"
		 "cessationOfOperation, privilegeWithdrawn or unspecified;\n"
		 "a CA certificate: one of the first five (BR 7.2.2); an end\n"
		 "entity: never cACompromise",
	 .man = "The reason of the\n"
		".B --revoke\n"
		"just before it; each\n"
		".B --revoke\n"
		"needs its own:\n"
		".BR keyCompromise ,\n"
		".BR cACompromise ,\n"
		".BR affiliationChanged ,\n"
		".BR superseded ,\n"
		".BR cessationOfOperation ,\n"
		".B privilegeWithdrawn\n"
		"or\n"
		".B unspecified\n"
		"(written as no reasonCode, RFC 5280 5.3.1).\n"
		"A CA certificate's entry must give one of the first five (CA/B Baseline\n"
		"Requirements 7.2.2); an end entity's is never\n"
		".BR cACompromise ."},
	{.name = "allow-unknown-serial", .val = 'U',
	 .help = "also revoke serials the CA's history never issued (recorded)",
	 .man = "Also revoke serials the CA's history never issued (each entry is recorded with\n"
		".BR \"known: false\" ,\n"
		"the record with\n"
		".BR \"allow_unknown_serial: true\" )."},
	{.name = "next-update", .arg = "DAYS", .val = 'n',
	 .help = "1 to 365 (CA/B BR 4.9.7)",
	 .man = "1 to 365 (CA/B Baseline Requirements 4.9.7)."},
	{.name = "out", .arg = "FILE", .val = 'o',
	 .help = "where to write the PEM CRL (never overwritten)"},
	{.name = "history", .arg = "DIR", .val = 'H',
	 .help = "the folder of the CA's transcripts"},
	{.include = cli_approve_opts},
	CLI_END,
};

static const struct cli_spec sign_spec = {sign_usage, sign_opts};

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
	struct crl_opts o = {0};
	int first, r;

	if ((r = cli_parse(ctx, argc, argv, &sign_spec, sign_opt, &o, &first)) != 0)
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

const struct cli_command cmd_crl_verbs[] = {
	{"sign", cmd_crl_sign, "sign the root's CRL", &sign_spec, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_crl(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "crl", "usage: ceremony crl COMMAND [options]\n", cmd_crl_verbs, argc,
			    argv);
}

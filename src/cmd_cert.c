/* ceremony cert root */
#include <stdio.h>

#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/rootops.h"

struct root_opts {
	const char *token, *key, *profile, *subject, *out;
};

static const char root_usage[] =
	"usage: ceremony cert root --token T --key L --profile FILE --subject DN --out FILE\n"
	"                          --transcript FILE [options]\n"
	"\nMakes the self-signed root certificate of HSM key L under a root profile:\n"
	"a serial of 126 random bits (HSM RNG XOR host RNG), the profile's validity and\n"
	"extensions, signed inside the HSM and verified with the token's public key\n"
	"before the PEM is written (atomically; an existing FILE is never overwritten).\n"
	"\n  --token T             token label or PKCS#11 URI\n"
	"  --key L               the key's label\n"
	"  --profile FILE        a root profile (ceremony-scripts/profiles/root.yaml)\n"
	"  --subject DN          e.g. \"/C=DE/O=ACME Devices/CN=ACME Devices Root CA 2026\"\n"
	"  --out FILE            where to write the PEM certificate\n\n" CLI_COMMON_HELP;

static int root_opt(void *state, int c, const char *arg)
{
	struct root_opts *o = state;

	switch (c) {
	case 't': o->token = arg; return 0;
	case 'k': o->key = arg; return 0;
	case 'p': o->profile = arg; return 0;
	case 's': o->subject = arg; return 0;
	case 'o': o->out = arg; return 0;
	default: return -1;
	}
}

static int cmd_cert_root(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"token", required_argument, NULL, 't'},   {"key", required_argument, NULL, 'k'},
		{"profile", required_argument, NULL, 'p'}, {"subject", required_argument, NULL, 's'},
		{"out", required_argument, NULL, 'o'},	   CLI_COMMON_OPTIONS,
		{NULL, 0, NULL, 0}};
	struct root_opts o = {NULL, NULL, NULL, NULL, NULL};
	int first, r;

	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, root_usage, root_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(root_usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = cli_require(o.token, "--token", root_usage)) != 0 ||
	    (r = cli_require(o.key, "--key", root_usage)) != 0 ||
	    (r = cli_require(o.profile, "--profile", root_usage)) != 0 ||
	    (r = cli_require(o.subject, "--subject", root_usage)) != 0 ||
	    (r = cli_require(o.out, "--out", root_usage)) != 0)
		return r;
	return rootops_cert_root(ctx, o.token, o.key, o.profile, o.subject, o.out, stdout);
}

static const struct cli_command cert_commands[] = {
	{"root", cmd_cert_root, "make the self-signed root certificate"},
	{NULL, NULL, NULL},
};

int cmd_cert(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "cert", "usage: ceremony cert COMMAND [options]\n", cert_commands,
			    argc, argv);
}

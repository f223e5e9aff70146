/* ceremony media sign */
#include <stdio.h>

#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/rootops.h"

struct media_opts {
	const char *token, *key, *cert;
};

static const char sign_usage[] =
	"usage: ceremony media sign --token T --key L --cert FILE --transcript T FILE\n"
	"\nSigns FILE (a medium's MANIFEST.sha256, written by \"ceremony run\") with the HSM\n"
	"key: FILE.sig, a detached CMS (DER) signature that\n"
	"  openssl cms -verify -binary -inform DER -in FILE.sig -content FILE -CAfile root.pem "
	"-purpose any\n"
	"accepts. Never overwrites.\n"
	"\n  --token T             token label or PKCS#11 URI\n"
	"  --key L               the key's label\n"
	"  --cert FILE           the key's certificate\n\n" CLI_COMMON_HELP;

static int media_opt(void *state, int c, const char *arg)
{
	struct media_opts *o = state;

	switch (c) {
	case 't': o->token = arg; return 0;
	case 'k': o->key = arg; return 0;
	case 'c': o->cert = arg; return 0;
	default: return -1;
	}
}

static int cmd_media_sign(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"token", required_argument, NULL, 't'}, {"key", required_argument, NULL, 'k'},
		{"cert", required_argument, NULL, 'c'},	 CLI_COMMON_OPTIONS,
		{NULL, 0, NULL, 0}};
	struct media_opts o = {NULL, NULL, NULL};
	int first, r;

	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, sign_usage, media_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(sign_usage, "give exactly one file");
	if ((r = cli_require(o.token, "--token", sign_usage)) != 0 ||
	    (r = cli_require(o.key, "--key", sign_usage)) != 0 ||
	    (r = cli_require(o.cert, "--cert", sign_usage)) != 0)
		return r;
	return rootops_sign_file(ctx, o.token, o.key, o.cert, argv[first], stdout);
}

static const struct cli_command media_commands[] = {
	{"sign", cmd_media_sign, "sign a file on the medium with the HSM key"},
	{NULL, NULL, NULL},
};

int cmd_media(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "media", "usage: ceremony media COMMAND [options]\n", media_commands,
			    argc, argv);
}

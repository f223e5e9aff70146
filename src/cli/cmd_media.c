/* ceremony media sign */
#include <stdio.h>

#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/mediasign.h"

struct media_opts {
	const char *token, *key, *cert;
};

static const char sign_usage[] =
	"usage: ceremony media sign --token T --key L --cert FILE --transcript T MEDIUM\n"
	"\nWrites MEDIUM/MANIFEST.sha256, the files this ceremony wrote to the medium (those\n"
	"that differ from the transcript's media.manifest record of it, made at the start),\n"
	"in sha256sum's format, and MEDIUM/MANIFEST.sha256.sig, a detached CMS (DER)\n"
	"signature of that text by the ceremony-signing key, which\n"
	"  openssl cms -verify -binary -inform DER -in MANIFEST.sha256.sig \\\n"
	"      -content MANIFEST.sha256 -CAfile root.pem\n"
	"accepts with its default purpose checks. The tool signs only the text it builds: a\n"
	"MANIFEST.sha256 already on the medium that differs from it is refused. Never\n"
	"overwrites. \"ceremony run\" calls this at the end of a script with media:.\n";

static const struct cli_opt sign_opts[] = {
	{.name = "token", .arg = "T", .val = 't',
	 .help = "token label or PKCS#11 URI"},
	{.name = "key", .arg = "L", .val = 'k',
	 .help = "the ceremony-signing key's label"},
	{.name = "cert", .arg = "FILE", .val = 'c',
	 .help = "its certificate"},
	CLI_END,
};

static const struct cli_spec sign_spec = {sign_usage, sign_opts};

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
	struct media_opts o = {NULL, NULL, NULL};
	int first, r;

	if ((r = cli_parse(ctx, argc, argv, &sign_spec, media_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(sign_usage, "give exactly one medium (a folder)");
	if ((r = cli_require(o.token, "--token", sign_usage)) != 0 ||
	    (r = cli_require(o.key, "--key", sign_usage)) != 0 ||
	    (r = cli_require(o.cert, "--cert", sign_usage)) != 0)
		return r;
	return mediasign_medium(ctx, o.token, o.key, o.cert, argv[first], stdout);
}

const struct cli_command cmd_media_verbs[] = {
	{"sign", cmd_media_sign, "write and sign the manifest of what the ceremony wrote", &sign_spec, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_media(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "media", "usage: ceremony media COMMAND [options]\n", cmd_media_verbs,
			    argc, argv);
}

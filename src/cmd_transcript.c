/* ceremony transcript seal | verify */
#include <stdio.h>

#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/rootops.h"

struct tr_opts {
	const char *token, *key, *cert, *root;
	int allow_unsealed;
};

static const char seal_usage[] =
	"usage: ceremony transcript seal --token T --key L [--cert FILE] TRANSCRIPT [options]\n"
	"\nSeals a transcript: writes TRANSCRIPT.sig, a detached CMS (DER) signature made\n"
	"by HSM key L over the whole file, which\n"
	"  openssl cms -verify -binary -inform DER -in T.sig -content T -CAfile root.pem "
	"-purpose any\n"
	"accepts. The chain is verified first; a sealed transcript is never appended to.\n"
	"\n  --token T             token label or PKCS#11 URI\n"
	"  --key L               the signing key's label\n"
	"  --cert FILE           the key's certificate (default: the root certificate the\n"
	"                        transcript's cert.root record wrote)\n\n" CLI_COMMON_HELP;

static const char verify_usage[] =
	"usage: ceremony transcript verify [--root root.pem] [--allow-unsealed] TRANSCRIPT\n"
	"\nChecks, with no HSM: every line's seq and prev (the hash chain), the SHA-256 of\n"
	"every recorded output that is still present, and the seal TRANSCRIPT.sig (against\n"
	"--root, or else against a key the transcript itself recorded). Names the first\n"
	"bad line. Exit 0 only if everything holds.\n"
	"\n  --root FILE           the root certificate the seal must verify against\n"
	"  --allow-unsealed      accept a transcript with no .sig (still checks the chain)\n"
	"\n" CLI_COMMON_HELP;

static int tr_opt(void *state, int c, const char *arg)
{
	struct tr_opts *o = state;

	switch (c) {
	case 't': o->token = arg; return 0;
	case 'k': o->key = arg; return 0;
	case 'c': o->cert = arg; return 0;
	case 'r': o->root = arg; return 0;
	case 'u': o->allow_unsealed = 1; return 0;
	default: return -1;
	}
}

static int cmd_transcript_seal(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"token", required_argument, NULL, 't'}, {"key", required_argument, NULL, 'k'},
		{"cert", required_argument, NULL, 'c'},	 CLI_COMMON_OPTIONS,
		{NULL, 0, NULL, 0}};
	struct tr_opts o = {NULL, NULL, NULL, NULL, 0};
	int first, r;

	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, seal_usage, tr_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(seal_usage, "give exactly one transcript file");
	if ((r = cli_require(o.token, "--token", seal_usage)) != 0 ||
	    (r = cli_require(o.key, "--key", seal_usage)) != 0)
		return r;
	return rootops_transcript_seal(ctx, o.token, o.key, o.cert, argv[first], stdout);
}

static int cmd_transcript_verify(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"root", required_argument, NULL, 'r'},
		{"allow-unsealed", no_argument, NULL, 'u'},
		CLI_COMMON_OPTIONS,
		{NULL, 0, NULL, 0}};
	struct tr_opts o = {NULL, NULL, NULL, NULL, 0};
	int first, r;

	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, verify_usage, tr_opt, &o, &first)) !=
	    0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(verify_usage, "give exactly one transcript file");
	return rootops_transcript_verify(argv[first], o.root, o.allow_unsealed, stdout);
}

static const struct cli_command transcript_commands[] = {
	{"seal", cmd_transcript_seal, "sign a transcript with an HSM key (detached CMS)"},
	{"verify", cmd_transcript_verify, "check chain, outputs and seal, offline"},
	{NULL, NULL, NULL},
};

int cmd_transcript(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "transcript", "usage: ceremony transcript COMMAND [options]\n",
			    transcript_commands, argc, argv);
}

/* ceremony transcript seal | verify | print | countersign */
#include <stdio.h>

#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/printout.h"
#include "ceremony/rootops.h"
#include "ceremony/transcript.h"
#include "ceremony/witness.h"

struct tr_opts {
	const char *token, *key, *cert, *root;
	unsigned verify_flags; /* TRANSCRIPT_ALLOW_* */
	int allow_test_cost;
	const char *registry, *role;
	int html;
};

static const char seal_usage[] =
	"usage: ceremony transcript seal --token T --key L [--cert FILE] TRANSCRIPT [options]\n"
	"\nSeals a transcript: writes TRANSCRIPT.sig, a detached CMS (DER) signature made\n"
	"by the ceremony-signing key L (see \"ceremony cert signer\"; never the root key)\n"
	"over the whole file, SHA-384 for a P-384 key, which\n"
	"  openssl cms -verify -binary -inform DER -in T.sig -content T -CAfile root.pem\n"
	"accepts with its default purpose checks. The chain is verified first; a sealed\n"
	"transcript is never appended to.\n"
	"\n  --token T             token label or PKCS#11 URI\n"
	"  --key L               the ceremony-signing key's label\n"
	"  --cert FILE           its certificate (default: the one the history's cert.signer\n"
	"                        record wrote)\n\n" CLI_COMMON_HELP;

static const char verify_usage[] =
	"usage: ceremony transcript verify [--root root.pem] [--allow-unsealed]\n"
	"                                  [--allow-unanchored] [--allow-test-cost]\n"
	"                                  [--registry DIR] TRANSCRIPT\n"
	"\nChecks, with no HSM: every line's seq and prev (the hash chain), the SHA-256 of\n"
	"every recorded file still present inside the archive (the folder above the\n"
	"transcript's; checked only after the seal), the seal TRANSCRIPT.sig (its signer's\n"
	"certificate must chain to --root; without --root it is checked only against a key\n"
	"the transcript itself records: \"unanchored\", a failure unless allowed), and every\n"
	"countersignature TRANSCRIPT.countersig-ROLE against the witness keys registered in\n"
	"the transcript (and in DIR's sealed transcripts). Names the first bad line or file.\n"
	"Exit 0 only if everything holds.\n"
	"\n  --root FILE           the root certificate the seal must verify against\n"
	"  --allow-unsealed      accept a transcript with no .sig (still checks the chain)\n"
	"  --allow-unanchored    without --root, accept a seal checked only against a key\n"
	"                        the transcript records (says UNANCHORED; proves nothing)\n"
	"  --allow-test-cost     accept backups sealed at the test Argon2id cost (a test\n"
	"                        ceremony; refused otherwise, as is CEREMONY_TEST_ARGON2=1)\n"
	"  --registry DIR        also accept witness keys registered in DIR's transcripts\n"
	"\n" CLI_COMMON_HELP;

static const char print_usage[] =
	"usage: ceremony transcript print [--html] TRANSCRIPT\n"
	"\nRenders what a transcript records, record by record: time, action, tokens, keys\n"
	"and their evidence, certificates, files, with every hash and fingerprint in groups\n"
	"of hex and as PGP words for reading aloud. Checks the hash chain first; does not\n"
	"check the seal (use transcript verify). With --html, a printable HTML page.\n"
	"\n  --html                write HTML instead of plain text\n\n" CLI_COMMON_HELP;

static const char countersign_usage[] =
	"usage: ceremony transcript countersign --token CARD --key L --role ROLE TRANSCRIPT\n"
	"\nA witness's countersignature of a sealed transcript: signs the SHA-256 of the\n"
	"whole file with the witness's card key (registered with ceremony witness register)\n"
	"and writes TRANSCRIPT.countersig-ROLE (JSON; see docs/audit.md). Never overwrites.\n"
	"\n  --token CARD          the witness's card: token label or PKCS#11 URI\n"
	"  --key L               the witness key's label on the card\n"
	"  --role ROLE           the role the key was registered for (IW, KE1, ...)\n"
	"(--pin-source is the card's PIN; default: asked on the terminal.)\n"
	"\n" CLI_COMMON_HELP;

static int tr_opt(void *state, int c, const char *arg)
{
	struct tr_opts *o = state;

	switch (c) {
	case 't': o->token = arg; return 0;
	case 'k': o->key = arg; return 0;
	case 'c': o->cert = arg; return 0;
	case 'r': o->root = arg; return 0;
	case 'u': o->verify_flags |= TRANSCRIPT_ALLOW_UNSEALED; return 0;
	case 'A': o->verify_flags |= TRANSCRIPT_ALLOW_UNANCHORED; return 0;
	case 'T': o->allow_test_cost = 1; return 0;
	case 'R': o->registry = arg; return 0;
	case 'o': o->role = arg; return 0;
	case 'H': o->html = 1; return 0;
	default: return -1;
	}
}

static int cmd_transcript_seal(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"token", required_argument, NULL, 't'}, {"key", required_argument, NULL, 'k'},
		{"cert", required_argument, NULL, 'c'},	 CLI_COMMON_OPTIONS,
		{NULL, 0, NULL, 0}};
	struct tr_opts o = {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, 0};
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
		{"allow-test-cost", no_argument, NULL, 'T'},
		{"allow-unanchored", no_argument, NULL, 'A'},
		{"registry", required_argument, NULL, 'R'},
		CLI_COMMON_OPTIONS,
		{NULL, 0, NULL, 0}};
	struct tr_opts o = {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, 0};
	const char *test_cost = NULL;
	int first, r;

	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, verify_usage, tr_opt, &o, &first)) !=
	    0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(verify_usage, "give exactly one transcript file");
	if (o.allow_test_cost)
		test_cost = "--allow-test-cost";
	else if (ctx->env_test_argon2)
		test_cost = "CEREMONY_TEST_ARGON2=1";
	return rootops_transcript_verify(argv[first], o.root, o.verify_flags, test_cost,
					 o.registry, stdout);
}

static int cmd_transcript_print(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"html", no_argument, NULL, 'H'}, CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
	struct tr_opts o = {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, 0};
	int first, r;

	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, print_usage, tr_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(print_usage, "give exactly one transcript file");
	return printout_transcript(argv[first], o.html ? PRINTOUT_HTML : PRINTOUT_TEXT, stdout);
}

static int cmd_transcript_countersign(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"token", required_argument, NULL, 't'}, {"key", required_argument, NULL, 'k'},
		{"role", required_argument, NULL, 'o'},	 CLI_COMMON_OPTIONS,
		{NULL, 0, NULL, 0}};
	struct tr_opts o = {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, 0};
	int first, r;

	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, countersign_usage, tr_opt, &o,
			    &first)) != 0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(countersign_usage, "give exactly one transcript file");
	if ((r = cli_require(o.token, "--token", countersign_usage)) != 0 ||
	    (r = cli_require(o.key, "--key", countersign_usage)) != 0 ||
	    (r = cli_require(o.role, "--role", countersign_usage)) != 0)
		return r;
	return witness_countersign(ctx, o.token, o.key, o.role, argv[first], stdout);
}

static const struct cli_command transcript_commands[] = {
	{"seal", cmd_transcript_seal, "sign a transcript with an HSM key (detached CMS)", NULL, NULL},
	{"verify", cmd_transcript_verify, "check chain, outputs, seal and countersignatures, offline", NULL, NULL},
	{"print", cmd_transcript_print, "render a transcript for reading aloud (text or HTML)", NULL, NULL},
	{"countersign", cmd_transcript_countersign, "a witness countersigns a sealed transcript", NULL, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_transcript(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "transcript", "usage: ceremony transcript COMMAND [options]\n",
			    transcript_commands, argc, argv);
}

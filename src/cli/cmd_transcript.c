/* ceremony transcript seal | verify | print | countersign */
#include <stdio.h>
#include <string.h>

#include "ceremony/audit_transcript.h"
#include "ceremony/cli_archive.h"
#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/printout.h"
#include "ceremony/sealops.h"
#include "ceremony/transcript.h"
#include "ceremony/witness.h"

struct tr_opts {
	const char *token, *key, *cert, *root;
	unsigned verify_flags; /* TRANSCRIPT_ALLOW_* */
	int allow_test_cost;
	const char *registry, *role;
	int html;
	struct cli_archive_opts archive; /* transcript verify */
};

static const char seal_usage[] =
	"usage: ceremony transcript seal --token T --key L [--cert FILE] TRANSCRIPT [options]\n"
	"\nSeals a transcript: writes TRANSCRIPT.sig, a detached CMS (DER) signature made\n"
	"by the ceremony-signing key L (see \"ceremony cert signer\"; never the root key)\n"
	"over the whole file, SHA-384 for a P-384 key, which\n"
	"  openssl cms -verify -binary -inform DER -in T.sig -content T -CAfile root.pem\n"
	"accepts with its default purpose checks. The chain is verified first; a sealed\n"
	"transcript is never appended to.\n";

static const struct cli_opt seal_opts[] = {
	{.name = "token", .arg = "T", .val = 't',
	 .help = "token label or PKCS#11 URI"},
	{.name = "key", .arg = "L", .val = 'k',
	 .help = "the ceremony-signing key's label",
	 .man = "The signing key's label."},
	{.name = "cert", .arg = "FILE", .val = 'c',
	 .help = "its certificate (default: the one the history's cert.signer\n"
		 "record wrote)",
	 .man = "The ceremony-signing key's certificate (default: the one the transcript's\n"
		".B cert.signer\n"
		"record wrote).\n"
		"The root key cannot seal: a CA certificate is refused."},
	CLI_END,
};

static const struct cli_spec seal_spec = {seal_usage, seal_opts};

static const char verify_usage[] =
	"usage: ceremony transcript verify [--root root.pem] [--allow-unsealed]\n"
	"                                  [--allow-unanchored] [--allow-test-cost]\n"
	"                                  [--registry DIR] [--archive DIR]\n"
	"                                  [--folder NAME=DIR]... [--outside DIR]...\n"
	"                                  TRANSCRIPT\n"
	"\nChecks, with no HSM: every line's seq and prev (the hash chain), the SHA-256 of\n"
	"every recorded file still present inside the archive (the folder above the\n"
	"transcript's, or as --archive, --folder and --outside say for a copy laid out\n"
	"differently; checked only after the seal), the seal TRANSCRIPT.sig (its signer's\n"
	"certificate must chain to --root; without --root it is checked only against a key\n"
	"the transcript itself records: \"unanchored\", a failure unless allowed), and every\n"
	"countersignature TRANSCRIPT.countersig-ROLE against the witness keys registered in\n"
	"the transcript (and in DIR's sealed transcripts). Names the first bad line or file.\n"
	"Exit 0 only if everything holds.\n";

static const struct cli_opt verify_opts[] = {
	{.name = "root", .arg = "FILE", .val = 'r',
	 .help = "the root certificate the seal must verify against",
	 .man = "The root certificate the seal's signer (the ceremony-signing certificate) must\n"
		"chain to, with OpenSSL's default CMS purpose checks."},
	{.name = "allow-unsealed", .val = 'u',
	 .help = "accept a transcript with no .sig (still checks the chain)",
	 .man = "Accept a transcript with no\n"
		".B .sig\n"
		"(still checks the chain)."},
	{.name = "allow-unanchored", .val = 'A',
	 .help = "without --root, accept a seal checked only against a key\n"
		 "the transcript records (says UNANCHORED; proves nothing)",
	 .man = "Without\n"
		".BR --root ,\n"
		"the seal can only be checked against a key the transcript itself records, which\n"
		"anyone can make: that is refused (exit 1, \"unanchored\") unless this option is\n"
		"given; the output then says\n"
		".BR UNANCHORED ."},
	{.name = "allow-test-cost", .val = 'T',
	 .help = "accept backups sealed at the test Argon2id cost (a test\n"
		 "ceremony; refused otherwise)",
	 .man = "Accept backups whose shares were sealed at the test Argon2id cost (a test\n"
		"ceremony); without it such a transcript fails. In a step of\n"
		".B ceremony run\n"
		"whose configuration says\n"
		".BR \"argon2_cost: test\" ,\n"
		"that key accepts them too, and the output names it."},
	{.name = "registry", .arg = "DIR", .val = 'R',
	 .help = "also accept witness keys registered in DIR's transcripts",
	 .man = "Also accept witness keys registered in\n"
		".IR DIR 's\n"
		"transcripts."},
	{.include = cli_archive_table},
	CLI_END,
};

static const struct cli_spec verify_spec = {verify_usage, verify_opts};

static const char print_usage[] =
	"usage: ceremony transcript print [--html] TRANSCRIPT\n"
	"\nRenders what a transcript records, record by record: time, action, tokens, keys\n"
	"and their evidence, certificates, files, with every hash and fingerprint in groups\n"
	"of hex and as PGP words for reading aloud. Checks the hash chain first; does not\n"
	"check the seal (use transcript verify). With --html, a printable HTML page.\n";

static const struct cli_opt print_opts[] = {
	{.name = "html", .val = 'H',
	 .help = "write HTML instead of plain text",
	 .man = "Write a printable HTML page instead of plain text."},
	CLI_END,
};

static const struct cli_spec print_spec = {print_usage, print_opts};

static const char countersign_usage[] =
	"usage: ceremony transcript countersign --token CARD --key L --role ROLE TRANSCRIPT\n"
	"\nA witness's countersignature of a sealed transcript: signs the SHA-256 of the\n"
	"whole file with the witness's card key (registered with ceremony witness register)\n"
	"and writes TRANSCRIPT.countersig-ROLE (JSON; see docs/audit.md). Never overwrites.\n";

static const struct cli_opt countersign_opts[] = {
	{.name = "token", .arg = "CARD", .val = 't',
	 .help = "the witness's card: token label or PKCS#11 URI"},
	{.name = "key", .arg = "L", .val = 'k',
	 .help = "the witness key's label on the card"},
	{.name = "role", .arg = "ROLE", .val = 'o',
	 .help = "the role the key was registered for (IW, KE1, ...)",
	 .man = "The role the key was registered for\n"
		".RB ( IW ,\n"
		".BR KE1 ,\n"
		"\\&...)."},
	{.help = "(--pin-source is the card's PIN; default: asked on the terminal.)\n",
	 .man = ".TP\n.BI --pin-source \" SRC\"\nThe card's PIN (default: asked on the terminal).\n"},
	CLI_END,
};

static const struct cli_spec countersign_spec = {countersign_usage, countersign_opts};

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
	default: return cli_archive_option(&o->archive, c, arg) == 0 ? 0 : -1;
	}
}

static int cmd_transcript_seal(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct tr_opts o;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_parse(ctx, argc, argv, &seal_spec, tr_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(seal_usage, "give exactly one transcript file");
	if ((r = cli_require(o.token, "--token", seal_usage)) != 0 ||
	    (r = cli_require(o.key, "--key", seal_usage)) != 0)
		return r;
	return sealops_transcript_seal(ctx, o.token, o.key, o.cert, argv[first], stdout);
}

static int cmd_transcript_verify(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct tr_opts o;
	const char *test_cost = NULL;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_parse(ctx, argc, argv, &verify_spec, tr_opt, &o, &first)) !=
	    0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(verify_usage, "give exactly one transcript file");
	if ((r = cli_archive_parse(&o.archive, verify_usage)) != 0)
		return r;
	if (o.allow_test_cost)
		test_cost = "--allow-test-cost";
	else {
		int cfg = 0;
		if ((r = ctx_argon2_test(ctx, &cfg)) != 0)
			return r;
		/* Only in a step of `ceremony run` (its notes pipe): an auditor's own run
		 * must say --allow-test-cost, whatever the site's configuration holds. */
		if (cfg && ctx->env_notes_fd >= 0)
			test_cost = CTX_ARGON2_COST_CAUSE " (a step of ceremony run)";
	}
	return audit_transcript_verify(argv[first], &o.archive.view, o.root, o.verify_flags,
				       test_cost, o.registry, stdout);
}

static int cmd_transcript_print(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct tr_opts o;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_parse(ctx, argc, argv, &print_spec, tr_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(print_usage, "give exactly one transcript file");
	return printout_transcript(argv[first], o.html ? PRINTOUT_HTML : PRINTOUT_TEXT, stdout);
}

static int cmd_transcript_countersign(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct tr_opts o;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_parse(ctx, argc, argv, &countersign_spec, tr_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(countersign_usage, "give exactly one transcript file");
	if ((r = cli_require(o.token, "--token", countersign_usage)) != 0 ||
	    (r = cli_require(o.key, "--key", countersign_usage)) != 0 ||
	    (r = cli_require(o.role, "--role", countersign_usage)) != 0)
		return r;
	return witness_countersign(ctx, o.token, o.key, o.role, argv[first], stdout);
}

const struct cli_command cmd_transcript_verbs[] = {
	{"seal", cmd_transcript_seal, "sign a transcript with an HSM key (detached CMS)", &seal_spec, NULL},
	{"verify", cmd_transcript_verify, "check chain, outputs, seal and countersignatures, offline", &verify_spec, NULL},
	{"print", cmd_transcript_print, "render a transcript for reading aloud (text or HTML)", &print_spec, NULL},
	{"countersign", cmd_transcript_countersign, "a witness countersigns a sealed transcript", &countersign_spec, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_transcript(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "transcript", "usage: ceremony transcript COMMAND [options]\n",
			    cmd_transcript_verbs, argc, argv);
}

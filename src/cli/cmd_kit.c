/* ceremony backup kit, ceremony backup kit verify */
#include <stdio.h>
#include <string.h>

#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/kit.h"
#include "ceremony/kit_verify.h"

static const char kit_usage[] =
	"usage: ceremony backup kit --out DIR --blob FILE --internal-record FILE --root FILE\n"
	"       --history DIR --toolkit DIR --token T --key L --cert FILE [--site-config FILE]\n"
	"   or: ceremony backup kit verify [--root FILE] DIR\n"
	"\nWrites the recovery kit for the backup site's own medium: the current backup blob\n"
	"(checked against the history: recorded, never a superseded one), its internal record,\n"
	"the root certificate, the whole sealed history, the site configuration, the guides as\n"
	"HTML and the tool's source archive with its SHA-256 and the exact Debian package\n"
	"versions it was built with (the toolkit, made by `make toolkit`), with KIT.json, a\n"
	"README.txt and a MANIFEST.sha256 signed by the HSM key (CMS). Everything is checked\n"
	"before the PIN is asked; DIR must not exist and appears whole or not at all.\n"
	"`verify` checks a kit offline, with no HSM (docs/recovery.md).\n"
	"\n  --out DIR             the kit's folder (new)\n"
	"  --blob FILE           the current backup blob\n"
	"  --internal-record FILE the backup's internal record (k, n, the cards: confidential)\n"
	"  --root FILE           the root certificate\n"
	"  --history DIR         the CA's transcripts folder\n"
	"  --toolkit DIR         the tool's source, package list and guides (make toolkit)\n"
	"  --site-config FILE    the site configuration (default: --config, else ./ceremony.yaml)\n"
	"  --token T             token of the key that signs the manifest\n"
	"  --key L               that key's label\n"
	"  --cert FILE           that key's certificate\n\n" CLI_COMMON_HELP;

static const char verify_usage[] =
	"usage: ceremony backup kit verify [--root FILE] DIR\n"
	"\nChecks a recovery kit offline: every file against the signed MANIFEST.sha256, the\n"
	"signature against the root certificate, the history (each transcript sealed), that\n"
	"the blob is the current backup with its internal record, and the tool's source\n"
	"archive against its SHA-256. Without --root it anchors on the kit's own root.pem and\n"
	"prints its fingerprint to compare with the paper record.\n"
	"\n  --root FILE           the root certificate you trust (else the kit's own)\n\n" CLI_COMMON_HELP;

enum { K_OUT = OPT_COMMON_LAST + 1, K_BLOB, K_INTERNAL, K_ROOT, K_HISTORY, K_TOOLKIT, K_SITE,
       K_TOKEN, K_KEY, K_CERT };

static int kit_opt(void *state, int c, const char *arg)
{
	struct kit_params *p = state;

	switch (c) {
	case K_OUT: p->out_dir = arg; return 0;
	case K_BLOB: p->blob = arg; return 0;
	case K_INTERNAL: p->internal_record = arg; return 0;
	case K_ROOT: p->root = arg; return 0;
	case K_HISTORY: p->history = arg; return 0;
	case K_TOOLKIT: p->toolkit = arg; return 0;
	case K_SITE: p->site_config = arg; return 0;
	case K_TOKEN: p->token = arg; return 0;
	case K_KEY: p->key = arg; return 0;
	case K_CERT: p->cert = arg; return 0;
	default: return -1;
	}
}

static int root_opt(void *state, int c, const char *arg)
{
	if (c != K_ROOT)
		return -1;
	*(const char **)state = arg;
	return 0;
}

static int kit_verify_cmd(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {{"root", required_argument, NULL, K_ROOT},
						 CLI_COMMON_OPTIONS,
						 {NULL, 0, NULL, 0}};
	const char *root = NULL;
	int first, r;

	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, verify_usage, root_opt, &root,
			    &first)) != 0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(verify_usage, "give the kit's folder");
	if ((r = kit_verify(argv[first], root, stdout)) != 0)
		printf("Kit NOT intact: %s\n", cer_err_msg(r));
	return r;
}

int cmd_backup_kit(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"out", required_argument, NULL, K_OUT},
		{"blob", required_argument, NULL, K_BLOB},
		{"internal-record", required_argument, NULL, K_INTERNAL},
		{"root", required_argument, NULL, K_ROOT},
		{"history", required_argument, NULL, K_HISTORY},
		{"toolkit", required_argument, NULL, K_TOOLKIT},
		{"site-config", required_argument, NULL, K_SITE},
		{"token", required_argument, NULL, K_TOKEN},
		{"key", required_argument, NULL, K_KEY},
		{"cert", required_argument, NULL, K_CERT},
		CLI_COMMON_OPTIONS,
		{NULL, 0, NULL, 0}};
	struct kit_params p;
	int first, r;

	if (argc > 1 && strcmp(argv[1], "verify") == 0)
		return kit_verify_cmd(ctx, argc - 1, argv + 1);
	memset(&p, 0, sizeof(p));
	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, kit_usage, kit_opt, &p, &first)) != 0)
		return r > 0 ? 0 : r;
	if (argc - first != 0)
		return cli_usage_error(kit_usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = cli_require(p.out_dir, "--out", kit_usage)) != 0 ||
	    (r = cli_require(p.blob, "--blob", kit_usage)) != 0 ||
	    (r = cli_require(p.internal_record, "--internal-record", kit_usage)) != 0 ||
	    (r = cli_require(p.root, "--root", kit_usage)) != 0 ||
	    (r = cli_require(p.history, "--history", kit_usage)) != 0 ||
	    (r = cli_require(p.toolkit, "--toolkit", kit_usage)) != 0 ||
	    (r = cli_require(p.token, "--token", kit_usage)) != 0 ||
	    (r = cli_require(p.key, "--key", kit_usage)) != 0 ||
	    (r = cli_require(p.cert, "--cert", kit_usage)) != 0)
		return r;
	return kit_make(ctx, &p, stdout);
}

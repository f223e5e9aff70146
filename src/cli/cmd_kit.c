/* ceremony backup kit, ceremony backup kit verify */
#include <stdio.h>
#include <string.h>

#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/kit.h"
#include "ceremony/kit_verify.h"

enum { K_OUT = OPT_COMMON_LAST + 1, K_BLOB, K_INTERNAL, K_ROOT, K_HISTORY, K_TOOLKIT, K_SITE,
       K_TOKEN, K_KEY, K_CERT };

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
	"`verify` checks a kit offline, with no HSM (docs/recovery.md).\n";

static const struct cli_opt kit_opts[] = {
	{.name = "out", .arg = "DIR", .val = K_OUT,
	 .help = "the kit's folder (new)",
	 .man = "The kit's folder (must not exist)."},
	{.name = "blob", .arg = "FILE", .val = K_BLOB,
	 .help = "the current backup blob"},
	{.name = "internal-record", .arg = "FILE", .val = K_INTERNAL,
	 .help = "the backup's internal record (k, n, the cards: confidential)",
	 .man = "That backup's internal record (confidential: k, n and the cards)."},
	{.name = "root", .arg = "FILE", .val = K_ROOT,
	 .help = "the root certificate"},
	{.name = "history", .arg = "DIR", .val = K_HISTORY,
	 .help = "the CA's transcripts folder",
	 .man = "The CA's transcripts folder; its parent is the archive whose layout the kit keeps."},
	{.name = "toolkit", .arg = "DIR", .val = K_TOOLKIT,
	 .help = "the tool's source, package list and guides (make toolkit)",
	 .man = "The toolkit\n"
		".RB ( \"make toolkit\" )."},
	{.name = "site-config", .arg = "FILE", .val = K_SITE,
	 .help = "the site configuration (default: --config, else ./ceremony.yaml)",
	 .man = "The site configuration (default:\n"
		".BR --config ,\n"
		"else\n"
		".BR ./ceremony.yaml )."},
	{.name = "token", .arg = "T", .val = K_TOKEN,
	 .help = "token of the key that signs the manifest",
	 .man = "The HSM key that signs the manifest, and its certificate."},
	{.name = "key", .arg = "L", .val = K_KEY,
	 .help = "that key's label",
	 .man = "The HSM key that signs the manifest, and its certificate."},
	{.name = "cert", .arg = "FILE", .val = K_CERT,
	 .help = "that key's certificate",
	 .man = "The HSM key that signs the manifest, and its certificate."},
	CLI_END,
};

const struct cli_spec cmd_backup_kit_spec = {kit_usage, kit_opts};

static const char verify_usage[] =
	"usage: ceremony backup kit verify [--root FILE] DIR\n"
	"\nChecks a recovery kit offline: every file against the signed MANIFEST.sha256, the\n"
	"signature against the root certificate, the history (each transcript sealed), that\n"
	"the blob is the current backup with its internal record, and the tool's source\n"
	"archive against its SHA-256. Without --root it anchors on the kit's own root.pem and\n"
	"prints its fingerprint to compare with the paper record.\n";

static const struct cli_opt kit_verify_opts[] = {
	{.name = "root", .arg = "FILE", .val = K_ROOT,
	 .help = "the root certificate you trust (else the kit's own)"},
	CLI_END,
};

static const struct cli_spec verify_spec = {verify_usage, kit_verify_opts};


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
	const char *root = NULL;
	int first, r;

	if ((r = cli_parse(ctx, argc, argv, &verify_spec, root_opt, &root, &first)) != 0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(verify_usage, "give the kit's folder");
	if ((r = kit_verify(argv[first], root, stdout)) != 0)
		printf("Kit NOT intact: %s\n", cer_err_msg(r));
	return r;
}

const struct cli_command cmd_backup_kit_verbs[] = {
	{"verify", kit_verify_cmd, "check a recovery kit offline", &verify_spec, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_backup_kit(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct kit_params p;
	int first, r;

	if (argc > 1 && strcmp(argv[1], "verify") == 0)
		return kit_verify_cmd(ctx, argc - 1, argv + 1);
	memset(&p, 0, sizeof(p));
	if ((r = cli_parse(ctx, argc, argv, &cmd_backup_kit_spec, kit_opt, &p, &first)) != 0)
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

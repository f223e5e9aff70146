/* ceremony csr show */
#include <stdio.h>

#include "ceremony/commands.h"
#include "ceremony/csr.h"
#include "ceremony/err.h"

struct show_opts {
	const char *profile, *root;
};

static const char show_usage[] =
	"usage: ceremony csr show FILE [--profile FILE] [--root CERT]\n"
	"\nReads one certificate signing request (DER, or PEM with exactly one\n"
	"CERTIFICATE REQUEST block) and prints its subject, key, SPKI SHA-256\n"
	"fingerprint (to read aloud), requested extensions and every check's verdict\n"
	"(docs/csr.md). Exit status 0 when every check passes, 1 when any fails.\n";

static const struct cli_opt show_opts[] = {
	{.name = "profile", .arg = "FILE", .val = 'p',
	 .help = "also check the request against this profile"},
	{.name = "root", .arg = "CERT", .val = 'r',
	 .help = "the root certificate, whose key the request must not reuse"},
	CLI_END,
};

static const struct cli_spec show_spec = {show_usage, show_opts};

static int show_opt(void *state, int c, const char *arg)
{
	struct show_opts *o = state;

	switch (c) {
	case 'p': o->profile = arg; return 0;
	case 'r': o->root = arg; return 0;
	default: return -1;
	}
}

static int cmd_csr_show(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct show_opts o = {NULL, NULL};
	int first, r;

	if ((r = cli_parse(ctx, argc, argv, &show_spec, show_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (first >= argc)
		return cli_usage_error(show_usage, "which CSR file?");
	if (first + 1 != argc)
		return cli_usage_error(show_usage, "unexpected argument \"%s\"", argv[first + 1]);
	return csr_show_report(argv[first], o.profile, o.root, stdout);
}

const struct cli_command cmd_csr_verbs[] = {
	{"show", cmd_csr_show, "print a CSR and the verdict of every check", &show_spec, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_csr(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "csr", "usage: ceremony csr COMMAND [options]\n", cmd_csr_verbs,
			    argc, argv);
}

/* ceremony share split | combine: SLIP-39 shares on stdout / from stdin (drills, paper backups). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ceremony/cli_split.h"
#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/slip39_io.h"

enum {
	OPT_PASSPHRASE_SOURCE = OPT_COMMON_LAST + 1,
	OPT_SECRET_SOURCE,
	OPT_ITERATION_EXPONENT,
	OPT_NO_EXTENDABLE,
};

static const char split_usage[] =
	"usage: ceremony share split --secret-source file:S --threshold K --shares N [options]\n"
	"       ceremony share split --secret-source file:S --group-threshold G\n"
	"                            --group T/N [--group T/N ...] [options]\n"
	"\nSplits a secret (file S holds it as hex: an even number of bytes, 16 to 64) into\n"
	"SLIP-39 shares and prints one mnemonic per line on stdout, groups separated by one\n"
	"blank line, in group then member order. Nothing is written to disk; a summary\n"
	"(identifier, thresholds) goes to stderr.\n";

static const struct cli_opt split_opts[] = {
	{.name = "secret-source", .arg = "file:S", .val = OPT_SECRET_SOURCE,
	 .help = "the secret in hex (one trailing newline allowed)"},
	{.include = cli_split_table},
	{.name = "passphrase-source", .arg = "file:P", .val = OPT_PASSPHRASE_SOURCE,
	 .help = "encrypt with the passphrase in file P (printable\n"
		 "ASCII). Without it the passphrase is EMPTY; there is no\n"
		 "prompt. SLIP-39 cannot tell a wrong passphrase: combine\n"
		 "then silently gives another secret.",
	 .man = "Encrypt with the passphrase in file\n"
		".I P\n"
		"(printable ASCII).\n"
		"Without it the passphrase is empty."},
	{.name = "iteration-exponent", .arg = "E", .val = OPT_ITERATION_EXPONENT,
	 .help = "PBKDF2 work 10000*2^E per cipher (default 0; 0..15)",
	 .man = "PBKDF2 work 10000\\(mu2^\\fIE\\fR per cipher (default 0; 0 to 15)."},
	{.name = "no-extendable", .val = OPT_NO_EXTENDABLE,
	 .help = "ext flag 0 (salt includes the identifier); default 1",
	 .man = "Extendable flag 0 (the salt includes the identifier); default 1."},
	CLI_END,
};

static const struct cli_spec split_spec = {split_usage, split_opts};

static const char combine_usage[] =
	"usage: ceremony share combine [--passphrase-source file:P] < mnemonics\n"
	"\nReads SLIP-39 mnemonics from stdin, one per line (blank lines are ignored),\n"
	"checks them as SLIP-39 requires (checksum of every share; same identifier, flags,\n"
	"iteration exponent, group threshold, group count and length; exactly the group\n"
	"threshold of groups and exactly each group's member threshold of distinct shares;\n"
	"zero padding; the digest of the recovered secret) and prints the secret as\n"
	"lowercase hex. Any failed check refuses with the reason (exit 1).\n";

static const struct cli_opt combine_opts[] = {
	{.name = "passphrase-source", .arg = "file:P", .val = OPT_PASSPHRASE_SOURCE,
	 .help = "the passphrase used at split. Without it the\n"
		 "passphrase is EMPTY; there is no prompt. A wrong\n"
		 "passphrase is not detected: it gives another secret.",
	 .man = "The passphrase used at split.\n"
		"Without it the passphrase is empty.\n"
		"A wrong passphrase is not detected: it gives another secret."},
	CLI_END,
};

static const struct cli_spec combine_spec = {combine_usage, combine_opts};

struct split_opts {
	struct cli_split_opts split;
	const char *passphrase_source, *secret_source;
	const char *iteration_exponent;
	int no_extendable;
};

static int split_opt(void *state, int c, const char *arg)
{
	struct split_opts *o = state;

	int r;

	if ((r = cli_split_option(&o->split, c, arg)) != 1)
		return r;
	switch (c) {
	case OPT_PASSPHRASE_SOURCE: o->passphrase_source = arg; return 0;
	case OPT_SECRET_SOURCE: o->secret_source = arg; return 0;
	case OPT_ITERATION_EXPONENT: o->iteration_exponent = arg; return 0;
	case OPT_NO_EXTENDABLE: o->no_extendable = 1; return 0;
	default: return -1;
	}
}

static int split_params(const struct split_opts *o, struct slip39_group *groups,
			struct slip39_split_params *p)
{
	int r;

	p->ext = o->no_extendable ? 0 : 1;
	p->iteration_exponent = 0;
	p->groups = groups;
	if (o->iteration_exponent != NULL &&
	    (r = cli_parse_int(o->iteration_exponent, "--iteration-exponent", 0,
			       SLIP39_MAX_ITERATION_EXPONENT, &p->iteration_exponent)) != 0)
		return r;
	return cli_split_parse(&o->split, split_usage, groups, &p->group_threshold, &p->group_count);
}

static int cmd_share_split(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct split_opts o;
	struct slip39_group groups[SLIP39_MAX_GROUPS];
	struct slip39_split_params p;
	int first, r;

	memset(&o, 0, sizeof(o));
	memset(groups, 0, sizeof(groups));
	if ((r = cli_parse(ctx, argc, argv, &split_spec, split_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(split_usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = cli_require(o.secret_source, "--secret-source", split_usage)) != 0 ||
	    (r = split_params(&o, groups, &p)) != 0)
		return r;
	return slip39_io_split(o.secret_source, o.passphrase_source, &p, STDOUT_FILENO, stderr);
}

static int cmd_share_combine(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct split_opts o;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_parse(ctx, argc, argv, &combine_spec, split_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(combine_usage, "unexpected argument \"%s\"", argv[first]);
	if (isatty(STDIN_FILENO))
		fprintf(stderr, "Enter the mnemonics, one per line, then Ctrl-D:\n");
	return slip39_io_combine(o.passphrase_source, STDIN_FILENO, STDOUT_FILENO);
}

const struct cli_command cmd_share_verbs[] = {
	{"split", cmd_share_split, "split a hex secret into SLIP-39 mnemonics on stdout", &split_spec, NULL},
	{"combine", cmd_share_combine, "combine SLIP-39 mnemonics from stdin into the secret", &combine_spec, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_share(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "share",
			    "usage: ceremony share COMMAND [options]\n"
			    "\nSLIP-39 shares for drills and paper backups (docs/shares.md).\n",
			    cmd_share_verbs, argc, argv);
}

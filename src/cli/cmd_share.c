/* ceremony share split | combine: SLIP-39 shares on stdout / from stdin (drills, paper backups). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceremony/cli_split.h"
#include "ceremony/commands.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/secret.h"
#include "ceremony/slip39.h"

/* Mnemonics on stdin: the most a combine can use, with room for spacing and comments. */
#define SHARE_INPUT_MAX (SLIP39_MAX_SHARES * (SLIP39_MNEMONIC_MAX + 64))

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

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return cer_err(CER_E_IO, "cannot write to standard output: %s",
				       strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The passphrase from its source, or an empty one (never a prompt). */
static int read_passphrase(const char *source, struct secret **out)
{
	if (source == NULL)
		return secret_new(0, out);
	return secret_read(source, "passphrase", SLIP39_PASSPHRASE_MAX, out);
}

/* Read the hex secret into secure memory and decode it there. */
static int read_hex_secret(const char *source, struct secret **out)
{
	struct secret *hex = NULL, *s = NULL;
	int r;

	*out = NULL;
	if ((r = secret_read(source, "secret", 2 * SLIP39_MAX_SECRET_LEN, &hex)) != 0)
		goto out;
	if (hex->len % 2 != 0) {
		r = cer_err(CER_E_INPUT, "%s: the secret must be hex with an even number of digits",
			    source);
		goto out;
	}
	if ((r = secret_new(hex->len / 2, &s)) != 0)
		goto out;
	if ((r = hex_decode((const char *)hex->data, hex->len, s->data, hex->len / 2)) != 0) {
		cer_err_prefix("%s: the secret: ", source);
		goto out;
	}
	s->len = hex->len / 2;
	*out = s;
	s = NULL;
	r = 0;
out:
	secret_free(hex);
	secret_free(s);
	return r;
}

static int print_shares(const struct slip39_share_set *set)
{
	struct secret *text = NULL;
	int r;

	if ((r = secret_new(SLIP39_MNEMONIC_MAX + 1, &text)) != 0)
		return r;
	for (size_t i = 0; i < set->count; i++) {
		const struct slip39_share *s = &set->shares[i];
		if (i > 0 && s->group_index != set->shares[i - 1].group_index &&
		    (r = write_all(STDOUT_FILENO, "\n", 1)) != 0)
			goto out;
		if ((r = slip39_share_encode(s, (char *)text->data, text->cap)) != 0)
			goto out;
		text->len = strlen((char *)text->data);
		text->data[text->len++] = '\n';
		if ((r = write_all(STDOUT_FILENO, text->data, text->len)) != 0)
			goto out;
	}
	r = 0;
out:
	secret_free(text);
	return r;
}

static int cmd_share_split(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct split_opts o;
	struct slip39_group groups[SLIP39_MAX_GROUPS];
	struct slip39_split_params p;
	struct secret *secret = NULL, *pass = NULL;
	struct slip39_share_set *set = NULL;
	int first, r;

	memset(&o, 0, sizeof(o));
	memset(groups, 0, sizeof(groups));
	if ((r = cli_parse(ctx, argc, argv, &split_spec, split_opt, &o, &first)) !=
	    0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(split_usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = cli_require(o.secret_source, "--secret-source", split_usage)) != 0 ||
	    (r = split_params(&o, groups, &p)) != 0)
		return r;
	if ((r = read_hex_secret(o.secret_source, &secret)) != 0 ||
	    (r = read_passphrase(o.passphrase_source, &pass)) != 0)
		goto out;
	if ((r = slip39_split(secret->data, secret->len, (const char *)pass->data, pass->len, &p,
			      NULL, &set)) != 0)
		goto out;
	if ((r = print_shares(set)) != 0)
		goto out;
	fprintf(stderr,
		"ceremony: %zu SLIP-39 shares of a %zu-byte secret, identifier %u, extendable %d, "
		"iteration exponent %d; %d of %d group(s) needed\n",
		set->count, secret->len, set->shares[0].id, p.ext, p.iteration_exponent,
		p.group_threshold, p.group_count);
	r = 0;
out:
	slip39_share_set_free(set);
	secret_free(secret);
	secret_free(pass);
	return r;
}

/* All of stdin into secure memory (at most SHARE_INPUT_MAX bytes). */
static int read_stdin(struct secret *in)
{
	in->len = 0;
	for (;;) {
		ssize_t n;
		if (in->len == in->cap)
			return cer_err(CER_E_INPUT, "stdin: more than %zu bytes of mnemonics",
				       in->cap);
		n = read(STDIN_FILENO, in->data + in->len, in->cap - in->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cer_err(CER_E_IO, "cannot read stdin: %s", strerror(errno));
		if (n == 0)
			break;
		in->len += (size_t)n;
	}
	in->data[in->len] = '\0';
	return 0;
}

/* Cut the input into lines in place, skipping blank ones; pointers into in. */
static int split_lines(struct secret *in, const char **lines, size_t max, size_t *n)
{
	char *text = (char *)in->data;
	size_t start = 0;

	*n = 0;
	for (size_t i = 0; i <= in->len; i++) {
		int blank = 1;
		if (i < in->len && text[i] != '\n')
			continue;
		text[i] = '\0';
		if (i > start && text[i - 1] == '\r')
			text[i - 1] = '\0';
		for (size_t k = start; k < i && text[k] != '\0'; k++)
			if (text[k] != ' ' && text[k] != '\t')
				blank = 0;
		if (!blank) {
			if (*n == max)
				return cer_err(CER_E_INPUT, "more than %zu mnemonics on stdin", max);
			lines[(*n)++] = text + start;
		}
		start = i + 1;
	}
	return 0;
}

static int cmd_share_combine(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct split_opts o;
	struct secret *in = NULL, *pass = NULL, *secret = NULL, *hex = NULL;
	const char *lines[SLIP39_MAX_SHARES];
	size_t n = 0, len = 0;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_parse(ctx, argc, argv, &combine_spec, split_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(combine_usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = read_passphrase(o.passphrase_source, &pass)) != 0 ||
	    (r = secret_new(SHARE_INPUT_MAX, &in)) != 0 ||
	    (r = secret_new(SLIP39_MAX_SECRET_LEN, &secret)) != 0 ||
	    (r = secret_new(2 * SLIP39_MAX_SECRET_LEN + 1, &hex)) != 0)
		goto out;
	if (isatty(STDIN_FILENO))
		fprintf(stderr, "Enter the mnemonics, one per line, then Ctrl-D:\n");
	if ((r = read_stdin(in)) != 0 || (r = split_lines(in, lines, SLIP39_MAX_SHARES, &n)) != 0)
		goto out;
	if (n == 0) {
		r = cer_err(CER_E_INPUT, "no mnemonics on stdin (one per line)");
		goto out;
	}
	if ((r = slip39_combine(lines, n, (const char *)pass->data, pass->len, secret->data,
				secret->cap, &len)) != 0)
		goto out;
	secret->len = len;
	hex_encode(secret->data, len, (char *)hex->data);
	hex->len = 2 * len;
	hex->data[hex->len++] = '\n';
	r = write_all(STDOUT_FILENO, hex->data, hex->len);
out:
	secret_free(in);
	secret_free(pass);
	secret_free(secret);
	secret_free(hex);
	return r;
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

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/airgap.h"
#include "ceremony/cli.h"
#include "ceremony/config.h"
#include "ceremony/err.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"

int cli_common_option(struct ceremony_ctx *ctx, int c, const char *arg)
{
	switch (c) {
	case OPT_MODULE: ctx->module_path = arg; return 0;
	case OPT_CONFIG: ctx->config_path = arg; return 0;
	case OPT_TRANSCRIPT: ctx->transcript_path = arg; return 0;
	case OPT_PIN_SOURCE: ctx->pin_source = arg; return 0;
	case OPT_SO_PIN_SOURCE: ctx->so_pin_source = arg; return 0;
	case OPT_CEREMONY: ctx->ceremony_id = arg; return 0;
	case OPT_ALLOW_NETWORK: ctx->allow_network = 1; return 0;
	case OPT_PREVIOUS: ctx->previous_path = arg; return 0;
	default: return CER_E_USAGE;
	}
}

int cli_usage_error(const char *usage, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	/* One line: the usage's first words ("ceremony transcript verify") name the
	 * command for --help; they end at the first option, argument or line end. */
	if (usage != NULL && strncmp(usage, "usage: ", 7) == 0) {
		const char *cmd = usage + 7, *end = cmd;
		while (*end >= 'a' && *end <= 'z') {
			const char *w = end;
			while ((*w >= 'a' && *w <= 'z') || *w == '-')
				w++;
			if (*w != ' ')
				break;
			end = w + 1;
		}
		if (end > cmd)
			return cer_err(CER_E_USAGE, "%s (see %.*s--help)", msg, (int)(end - cmd), cmd);
	}
	return cer_err(CER_E_USAGE, "%s", msg);
}

int cli_require(const char *value, const char *option, const char *usage)
{
	if (value == NULL || value[0] == '\0')
		return cli_usage_error(usage, "%s is required", option);
	return 0;
}

/* The long option named exactly by arg ("--name" or "--name=value"), or NULL. */
static const struct option *long_exact(const struct option *longopts, const char *arg)
{
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);

	for (const struct option *o = longopts; o->name != NULL; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

/*
 * getopt_long accepts any unambiguous prefix of a long option ("--thres" for
 * "--threshold"), which would let an abbreviation slip past every filter that
 * looks for the whole name (a script's secret options, the confidential options
 * the runner hides). Walk argv as getopt_long will and refuse any long option
 * that is not spelled out whole. stop_at_operand: main's "+" mode.
 */
int cli_options_exact(int argc, char **argv, const char *shortopts,
		      const struct option *longopts, int stop_at_operand, const char *usage)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct option *o;

		if (strcmp(a, "--") == 0)
			return 0;
		if (a[0] != '-' || a[1] == '\0') {
			if (stop_at_operand)
				return 0;
			continue;
		}
		if (a[1] != '-') {
			/* -abc: a short option taking a value swallows the rest or the next word */
			for (const char *c = a + 1; *c != '\0'; c++) {
				const char *spec = strchr(shortopts, *c);
				if (spec != NULL && *c != ':' && spec[1] == ':') {
					if (c[1] == '\0')
						i++;
					break;
				}
			}
			continue;
		}
		o = long_exact(longopts, a);
		if (o == NULL)
			return cli_usage_error(usage, "%s: unknown option \"%.*s\" (options are "
						      "never abbreviated: write the whole name)",
					       argv[0], (int)strcspn(a, "="), a);
		if (o->has_arg == required_argument && strchr(a, '=') == NULL)
			i++;
	}
	return 0;
}

const struct cli_opt cli_common_opts[] = {
	{.name = "module", .arg = "PATH", .val = OPT_MODULE,
	 .help = "PKCS#11 module (else $CEREMONY_MODULE, else ceremony.yaml)",
	 .man = "The PKCS#11 module to load.\n"
		"Without it, the module is taken from\n.BR CEREMONY_MODULE ,\nelse from\n"
		".B module:\nin the configuration file."},
	{.name = "config", .arg = "FILE", .val = OPT_CONFIG,
	 .help = "site configuration (default ./ceremony.yaml if present)",
	 .man = "The site configuration (default\n.B ./ceremony.yaml\nif present)."},
	{.name = "transcript", .arg = "FILE", .val = OPT_TRANSCRIPT,
	 .help = "transcript to append to (required by commands that change things)",
	 .man = "The transcript to append to; required by every command that changes\nanything."},
	{.name = "pin-source", .arg = "SRC", .val = OPT_PIN_SOURCE,
	 .help = "user PIN from file:PATH (default: asked on the terminal)",
	 .man = "The user PIN, from\n.BI file: PATH\\fR;\nby default it is asked on the terminal."},
	{.name = "so-pin-source", .arg = "SRC", .val = OPT_SO_PIN_SOURCE,
	 .help = "security officer PIN from file:PATH",
	 .man = "The security officer PIN, from\n.BI file: PATH\\fR."},
	{.name = "ceremony", .arg = "ID", .val = OPT_CEREMONY,
	 .help = "ceremony id recorded in a new transcript",
	 .man = "The ceremony id recorded in a new transcript (default: random)."},
	{.name = "previous", .arg = "FILE", .val = OPT_PREVIOUS,
	 .help = "the previous ceremony's sealed transcript (a new one links it)",
	 .man = "The previous ceremony's sealed transcript; a new transcript links to it\n"
		"(its SHA-256, its seal's SHA-256 and its last line's hash), so the\n"
		"transcripts form one chain, the CA's whole history."},
	{.name = "allow-network", .val = OPT_ALLOW_NETWORK,
	 .help = "run although a network interface is up (recorded)",
	 .man = "Run although a network interface other than loopback is up. Without it, every\n"
		"command that touches an HSM, a card or a transcript refuses to run on a machine\n"
		"that is on a network; with it, a new transcript's\n.B ceremony.begin\n"
		"record names the interfaces and the override."},
	{.name = "help", .val = 'h', .short_name = 'h', .help = "print this help",
	 .man = "Print the help and exit.\n.B ceremony COMMAND --help\n"
		"prints a command group's list of commands,\n.B ceremony COMMAND VERB --help\n"
		"a command's own options."},
	CLI_END,
};

const struct cli_opt cli_approve_opts[] = {
	{.name = "approvers", .arg = "ROLES", .val = OPT_APPROVERS,
	 .help = "the officers who approve, in order: KE1,KE2 (the quorum\n"
		 "policy in the history says who must; see docs/quorum.md)",
	 .man = "The officers who approve, in order, comma-separated:\n.BR KE1,KE2 .\n"
		"When the CA's history holds a quorum policy, the command first builds the\n"
		"exact bytes the HSM will sign, shows their SHA-256 in PGP words, and each\n"
		"approver's card signs an approval statement; fewer than the policy requires\n"
		"is refused before anything is signed. See\n.IR docs/quorum.md ."},
	{.name = "approver-pin-sources", .arg = "LIST", .val = OPT_APPROVER_PINS,
	 .help = "file:PATH per approver, for their card PINs\n"
		 "(default: each is asked on the terminal)",
	 .man = ".BI file: PATH\nper approver, for their card PINs (default: each is asked on the "
		"terminal)."},
	CLI_END,
};

/* Append table's options (and its includes') to longopts and shortopts. */
static int longopts_add(const struct cli_opt *table, struct option *longopts, size_t *n,
			char *shortopts, size_t *ns)
{
	for (const struct cli_opt *o = table; !CLI_OPT_IS_END(o); o++) {
		int r;

		if (o->include != NULL && (r = longopts_add(o->include, longopts, n, shortopts, ns)) != 0)
			return r;
		if (o->name == NULL)
			continue;
		if (*n + 1 >= CLI_LONGOPTS_MAX || *ns + 3 >= CLI_LONGOPTS_MAX)
			return cer_err(CER_E_INTERNAL, "--%s: more than %d options", o->name,
				       CLI_LONGOPTS_MAX - 1);
		longopts[*n].name = o->name;
		longopts[*n].has_arg = o->arg != NULL ? required_argument : no_argument;
		longopts[*n].flag = NULL;
		longopts[*n].val = o->val;
		(*n)++;
		if (o->short_name != 0) {
			shortopts[(*ns)++] = o->short_name;
			if (o->arg != NULL)
				shortopts[(*ns)++] = ':';
		}
	}
	return 0;
}

int cli_longopts(const struct cli_spec *spec, struct option longopts[CLI_LONGOPTS_MAX],
		 char shortopts[CLI_LONGOPTS_MAX])
{
	size_t n = 0, ns = 0;
	int r;

	if ((spec->opts != NULL && (r = longopts_add(spec->opts, longopts, &n, shortopts, &ns)) != 0) ||
	    (r = longopts_add(cli_common_opts, longopts, &n, shortopts, &ns)) != 0)
		return r;
	memset(&longopts[n], 0, sizeof(longopts[n]));
	shortopts[ns] = '\0';
	return 0;
}

int cli_opt_tag(const struct cli_opt *o, char *tag, size_t size)
{
	/* A help column: a name too long for it (a bug in a table) is shown cut. */
	if (o->short_name != 0)
		(void)text_format_cut(tag, size, "-%c, --%s%s%s", o->short_name, o->name,
				      o->arg != NULL ? " " : "", o->arg != NULL ? o->arg : "");
	else
		(void)text_format_cut(tag, size, "--%s%s%s", o->name, o->arg != NULL ? " " : "",
				      o->arg != NULL ? o->arg : "");
	return (int)strlen(tag);
}

/* "  --name ARG   text", continuation lines at column 24. */
static void help_rows(const struct cli_opt *table, FILE *f)
{
	for (const struct cli_opt *o = table; !CLI_OPT_IS_END(o); o++) {
		if (o->name == NULL) {
			if (o->help != NULL)
				fputs(o->help, f);
			else if (o->include != NULL)
				help_rows(o->include, f);
			continue;
		}
		char tag[96];
		int w = cli_opt_tag(o, tag, sizeof(tag));

		/* The text at column 24, or two spaces after a longer name. */
		fprintf(f, "  %s%*s", tag, w < 22 ? 22 - w : 2, "");
		for (const char *h = o->help; *h != '\0'; h++) {
			fputc(*h, f);
			if (*h == '\n')
				fprintf(f, "%24s", "");
		}
		fputc('\n', f);
	}
}

void cli_help(const struct cli_spec *spec, FILE *f)
{
	fputs(spec->usage, f);
	if (spec->opts != NULL && !CLI_OPT_IS_END(&spec->opts[0])) {
		fputc('\n', f);
		help_rows(spec->opts, f);
	}
	fputs("\nCommon options (before or after the command):\n", f);
	help_rows(cli_common_opts, f);
}

int cli_parse(struct ceremony_ctx *ctx, int argc, char **argv, const struct cli_spec *spec,
	      int (*handle)(void *state, int c, const char *arg), void *state, int *first_arg)
{
	struct option longopts[CLI_LONGOPTS_MAX];
	char shortopts[CLI_LONGOPTS_MAX];
	int c;

	if ((c = cli_longopts(spec, longopts, shortopts)) != 0)
		return c;
	if ((c = cli_options_exact(argc, argv, shortopts, longopts, 0, spec->usage)) != 0)
		return c;
	optind = 0; /* GNU: restart scanning for this command's argv */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h') {
			cli_help(spec, stdout);
			return 1;
		}
		if (c == '?' || c == ':') {
			return cli_usage_error(spec->usage,
					       "%s: unknown option or missing value in \"%s\"",
					       argv[0], argv[optind - 1]);
		}
		if (c >= OPT_MODULE && c < OPT_COMMON_LAST) {
			(void)cli_common_option(ctx, c, optarg);
			continue;
		}
		if (handle == NULL || handle(state, c, optarg) != 0) {
			if (cer_err_msg(CER_E_USAGE)[0] != '\0' && c == 0)
				return CER_E_USAGE;
			return cli_usage_error(spec->usage, "%s: bad value \"%s\" for an option",
					       argv[0], optarg != NULL ? optarg : "");
		}
	}
	*first_arg = optind;
	return 0;
}

static void print_group_help(const char *group_help, const struct cli_command *table, FILE *f)
{
	fprintf(f, "%s\nCommands:\n", group_help);
	for (const struct cli_command *cmd = table; cmd->name != NULL; cmd++)
		fprintf(f, "  %-12s %s\n", cmd->name, cmd->summary);
}

int cli_dispatch(struct ceremony_ctx *ctx, const char *group, const char *group_help,
		 const struct cli_command *table, int argc, char **argv)
{
	int i = 1;

	/* Common options may come between the group and the verb. */
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			print_group_help(group_help, table, stdout);
			return 0;
		}
		break;
	}
	if (i >= argc)
		return cer_err(CER_E_USAGE, "%s: which command? (see ceremony %s --help)", group,
			       group);
	for (const struct cli_command *cmd = table; cmd->name != NULL; cmd++) {
		if (strcmp(cmd->name, argv[i]) == 0)
			return cmd->run(ctx, argc - i, argv + i);
	}
	return cer_err(CER_E_USAGE, "%s: unknown command \"%s\" (see ceremony %s --help)", group,
		       argv[i], group);
}


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/airgap.h"
#include "ceremony/cli.h"
#include "ceremony/config.h"
#include "ceremony/err.h"
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
	/* One line: the usage's first line names the command for --help. */
	if (usage != NULL && strncmp(usage, "usage: ", 7) == 0) {
		const char *cmd = usage + 7, *end = strstr(cmd, " -");
		int n = end != NULL ? (int)(end - cmd) : 20;
		return cer_err(CER_E_USAGE, "%s (see %.*s --help)", msg, n, cmd);
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

int cli_getopt(struct ceremony_ctx *ctx, int argc, char **argv, const char *shortopts,
	       const struct option *longopts, const char *usage,
	       int (*handle)(void *state, int c, const char *arg), void *state, int *first_arg)
{
	int c;

	if ((c = cli_options_exact(argc, argv, shortopts, longopts, 0, usage)) != 0)
		return c;
	optind = 0; /* GNU: restart scanning for this command's argv */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h') {
			printf("%s", usage);
			return 1;
		}
		if (c == '?' || c == ':') {
			return cli_usage_error(usage, "%s: unknown option or missing value in \"%s\"",
					       argv[0], argv[optind - 1]);
		}
		if (c >= OPT_MODULE && c < OPT_COMMON_LAST) {
			(void)cli_common_option(ctx, c, optarg);
			continue;
		}
		if (handle == NULL || handle(state, c, optarg) != 0) {
			if (cer_err_msg(CER_E_USAGE)[0] != '\0' && c == 0)
				return CER_E_USAGE;
			return cli_usage_error(usage, "%s: bad value \"%s\" for an option", argv[0],
					       optarg != NULL ? optarg : "");
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


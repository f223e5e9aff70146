/* ceremony report DIR */
#include <stdio.h>

#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/report.h"

static const char report_usage[] =
	"usage: ceremony report DIR\n"
	"\nAnswers the disclosure questions of the manufacturer-keys taxonomy draft (§6.2)\n"
	"for this PKI from its folder of transcripts: pkilevel, how long each subordinate\n"
	"CA lives, how the root key is stored, the spare shares n - k, recovery without\n"
	"travel. Never prints k, n or names. Reads the transcripts' hash chains but not\n"
	"their seals: run \"ceremony audit DIR\" first.\n";

static const struct cli_opt report_opts[] = {
	CLI_END,
};

const struct cli_spec cmd_report_spec = {report_usage, report_opts};

static int report_opt(void *state, int c, const char *arg)
{
	(void)state;
	(void)c;
	(void)arg;
	return -1;
}

int cmd_report(struct ceremony_ctx *ctx, int argc, char **argv)
{
	int first, r;

	if ((r = cli_parse(ctx, argc, argv, &cmd_report_spec, report_opt, NULL,
			    &first)) != 0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(report_usage, "give exactly one folder of transcripts");
	return report_print(argv[first], stdout);
}

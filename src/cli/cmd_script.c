/* ceremony script print */
#include <stdio.h>

#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/script.h"

static const char print_usage[] =
	"usage: ceremony script print SCRIPT [--config FILE] > checklist.html\n"
	"\nRenders a ceremony script as a printable HTML checklist: participants, every\n"
	"act and step numbered, the role, the text, the command with the configuration's\n"
	"values, a box and an initials line, and an exception sheet.\n\n" CLI_COMMON_HELP;

static int cmd_script_print(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
	const struct config *cfg = NULL;
	struct script *s = NULL;
	int first, r;

	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, print_usage, NULL, NULL, &first)) != 0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(print_usage, "give exactly one script");
	if ((r = ctx_config(ctx, &cfg)) != 0 || (r = script_load(argv[first], cfg, &s)) != 0)
		return r;
	r = script_print_html(s, cfg, stdout);
	script_free(s);
	return r;
}

static const struct cli_command script_commands[] = {
	{"print", cmd_script_print, "render a script as a printable checklist (HTML)"},
	{NULL, NULL, NULL},
};

int cmd_script(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "script", "usage: ceremony script COMMAND [options]\n",
			    script_commands, argc, argv);
}

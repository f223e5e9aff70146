/* ceremony script print */
#include <stdio.h>

#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/script.h"

static const char print_usage[] =
	"usage: ceremony script print SCRIPT [--config FILE] > checklist.html\n"
	"\nRenders a ceremony script as a printable HTML checklist: participants, every\n"
	"act and step numbered, the role, the text, the command with the configuration's\n"
	"values, a box and an initials line, and an exception sheet.\n";

static const struct cli_opt script_opts[] = {
	CLI_END,
};

static const struct cli_spec print_spec = {print_usage, script_opts};

static int cmd_script_print(struct ceremony_ctx *ctx, int argc, char **argv)
{
	const struct config *cfg = NULL;
	struct script *s = NULL;
	int first, r;

	if ((r = cli_parse(ctx, argc, argv, &print_spec, NULL, NULL, &first)) != 0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(print_usage, "give exactly one script");
	if ((r = ctx_config(ctx, &cfg)) != 0 || (r = script_load(argv[first], cfg, &s)) != 0)
		return r;
	r = script_print_html(s, cfg, stdout);
	script_free(s);
	return r;
}

const struct cli_command cmd_script_verbs[] = {
	{"print", cmd_script_print, "render a script as a printable checklist (HTML)", &print_spec, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_script(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "script", "usage: ceremony script COMMAND [options]\n",
			    cmd_script_verbs, argc, argv);
}

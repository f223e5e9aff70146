/* ceremony run SCRIPT */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/runner.h"

static const char run_usage[] =
	"usage: ceremony run SCRIPT --transcript FILE [--answers FILE] [--dry-run | --abandon REASON]\n"
	"       [options]\n"
	"\nRuns a ceremony script (docs/scripts.md): act by act, step by step, showing who\n"
	"acts and what to read aloud, running each step's ceremony command, asking each\n"
	"confirmation, recording everything in the transcript, and sealing it at the end.\n"
	"A ceremony that was cut short resumes from its transcript: run the same command\n"
	"again. Refusals and deviations are recorded as exceptions.\n";

static const struct cli_opt run_opts[] = {
	{.name = "answers", .arg = "FILE", .val = 'a',
	 .help = "non-interactive run: names, confirmations and each role's\n"
		 "PIN/passphrase sources (file:PATH); never the secrets",
	 .man = "Non-interactive run: names, confirmations and each role's PIN and passphrase\n"
		"sources\n"
		".RB ( file: \\fIPATH\\fR);\n"
		"never the secrets themselves (a secret written into the answers file is\n"
		"refused)."},
	{.name = "dry-run", .val = 'n',
	 .help = "print every step and the exact command; touch nothing",
	 .man = "Print every step and the exact command it will run, with the configuration's\n"
		"values filled in; touch no HSM and write nothing.\n"
		"The output is deterministic, so it can be printed and reviewed in advance."},
	{.name = "abandon", .arg = "REASON", .val = 'A',
	 .help = "retire a ceremony that will not be finished: record\n"
		 "ceremony.abandoned with the reason, and seal it if the\n"
		 "sealing key exists; audit lists it apart from the history",
	 .man = "Retire a ceremony that will not be finished: record\n"
		".B ceremony.abandoned\n"
		"with the reason (and the steps done), then seal the transcript with the\n"
		"script's seal if the sealing key exists (a root key generation stopped before\n"
		"its key was made stays unsealed, and says so).\n"
		".BR ceremony-audit (1)\n"
		"lists an abandoned ceremony apart from the history, not as a fork; start the\n"
		"ceremony again in a new transcript with the same\n"
		".BR --previous ."},
	{.help = "(--transcript is the ceremony's transcript: a new one, or one to resume.)\n",
	 .man = ".TP\n.BI --transcript \" FILE\"\nThe ceremony's transcript: a new one, or one to resume.\n"
		".TP\n.BI --previous \" FILE\"\nThe previous ceremony's sealed transcript.\n"},
	CLI_END,
};

const struct cli_spec cmd_run_spec = {run_usage, run_opts};

struct run_state {
	struct runner_opts *o;
};

static int run_opt(void *state, int c, const char *arg)
{
	struct runner_opts *o = state;

	switch (c) {
	case 'a': o->answers_path = arg; return 0;
	case 'n': o->dry_run = 1; return 0;
	case 'A':
		if (arg[0] == '\0')
			return cer_err(CER_E_USAGE, "--abandon needs a reason");
		o->abandon_reason = arg;
		return 0;
	default: return -1;
	}
}

int cmd_run(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct runner_opts o = {NULL, NULL, 0, NULL, NULL};
	char self[PATH_MAX];
	ssize_t n;
	int first, r;

	if ((r = cli_parse(ctx, argc, argv, &cmd_run_spec, run_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage_error(run_usage, "give exactly one script");
	o.script_path = argv[first];
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return cer_err(CER_E_INTERNAL, "cannot find this program's own path");
	self[n] = '\0';
	o.self = self;
	return runner_run(ctx, &o, stdout);
}

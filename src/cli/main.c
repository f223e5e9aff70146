/* ceremony — offline root CA key ceremonies on PKCS#11 HSMs. */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "ceremony/cli.h"
#include "ceremony/commands.h"
#include "ceremony/config.h"
#include "ceremony/err.h"
#include "ceremony/secret.h"

static const struct cli_command main_commands[] = {
	{"run", cmd_run, "run a ceremony script step by step (or --dry-run it)"},
	{"script", cmd_script, "print a ceremony script as a checklist"},
	{"token", cmd_token, "list and initialise PKCS#11 tokens"},
	{"key", cmd_key, "generate the root key in the HSM and show its attributes"},
	{"cert", cmd_cert, "make the root certificate; sign intermediates and end entities"},
	{"crl", cmd_crl, "sign the root's certificate revocation list"},
	{"media", cmd_media, "sign a file on the removable medium (its manifest)"},
	{"transcript", cmd_transcript, "seal, verify, print and countersign ceremony transcripts"},
	{"witness", cmd_witness, "give witnesses card keys for countersigning transcripts"},
	{"quorum", cmd_quorum, "fix who must approve each root operation; show it"},
	{"audit", cmd_audit, "replay a root's whole history of transcripts, offline"},
	{"report", cmd_report, "answer the disclosure questions (pkilevel, spare shares, ...)"},
	{"share", cmd_share, "split and combine SLIP-39 shares (drills, paper backups)"},
	{"backup", cmd_backup, "back up the root key to Key Executive cards; recover it"},
	{"card", cmd_card, "show, verify and wipe Key Executive cards"},
	{"csr", cmd_csr, "inspect and check certificate signing requests"},
	{NULL, NULL, NULL},
};

static const char main_usage[] =
	"usage: ceremony [options] COMMAND [args]\n"
	"\n"
	"Runs an offline root certification authority's key ceremonies on a PKCS#11 HSM.\n"
	"Every command that changes anything appends to a hash-chained transcript.\n"
	"Exit status: 0 success, 1 refused or bad input, 2 usage error.\n"
	"\n" CLI_COMMON_HELP "  --version             print the version\n";

static void main_help(FILE *f)
{
	fprintf(f, "%s\nCommands:\n", main_usage);
	for (const struct cli_command *c = main_commands; c->name != NULL; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->summary);
	fprintf(f, "\nRun \"ceremony COMMAND --help\" for a command's own help.\n");
}

static int main_run(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_OPTIONS,
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	if (cli_options_exact(argc, argv, "+hV", longopts, 1, "usage: ceremony --help") != 0)
		return CER_E_USAGE;
	optind = 0;
	opterr = 0;
	/* "+": stop at the first non-option, the command. */
	while ((c = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		if (c == 'h') {
			main_help(stdout);
			return 0;
		}
		if (c == 'V') {
			printf("ceremony %s\n", CEREMONY_VERSION);
			return 0;
		}
		if (c == '?' || cli_common_option(ctx, c, optarg) != 0)
			return cer_err(CER_E_USAGE,
				       "unknown option or missing value in \"%s\" (see ceremony --help)",
				       argv[optind - 1]);
	}
	if (optind >= argc)
		return cer_err(CER_E_USAGE, "which command? (see ceremony --help)");
	for (const struct cli_command *cmd = main_commands; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, argv[optind]) == 0)
			return cmd->run(ctx, argc - optind, argv + optind);
	return cer_err(CER_E_USAGE, "unknown command \"%s\" (see ceremony --help)", argv[optind]);
}

int main(int argc, char **argv)
{
	struct ceremony_ctx ctx;
	int r;

	memset(&ctx, 0, sizeof(ctx));
	ctx_read_env(&ctx);
	secret_notes_to(ctx.env_notes_fd);
	if ((r = secret_init()) != 0) {
		fprintf(stderr, "ceremony: %s\n", cer_err_msg(r));
		return cer_exit_code(r);
	}
	r = main_run(&ctx, argc, argv);
	if (r != 0)
		fprintf(stderr, "ceremony: %s\n", cer_err_msg(r));
	config_free(ctx.config);
	return cer_exit_code(r);
}

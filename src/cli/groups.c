/*
 * groups — the command groups main dispatches to, and ceremony's own options.
 *
 * The one table of commands: main dispatches with it and tools/genman.c walks it
 * (each group's verbs and their option tables) to write the man pages' OPTIONS.
 */
#include "ceremony/commands.h"

static const struct cli_opt main_opts[] = {
	{.man = "The common options may be given before or after the command.\n"
		"Long options are never abbreviated: the whole name is required, and a\n"
		"prefix of an option's name is refused, never taken for the option."},
	{.name = "version", .val = 'V', .short_name = 'V', .help = "print the version",
	 .man = "Print the version and exit."},
	CLI_END,
};

const struct cli_spec cli_main_spec = {
	.usage = "usage: ceremony [options] COMMAND [args]\n"
		 "\n"
		 "Runs an offline root certification authority's key ceremonies on a PKCS#11 HSM.\n"
		 "Every command that changes anything appends to a hash-chained transcript.\n"
		 "Exit status: 0 success, 1 refused or bad input, 2 usage error.\n",
	.opts = main_opts,
};

const struct cli_command cli_groups[] = {
	{"run", cmd_run, "run a ceremony script step by step (or --dry-run it)", &cmd_run_spec, NULL},
	{"script", cmd_script, "print a ceremony script as a checklist", NULL, cmd_script_verbs},
	{"token", cmd_token, "list and initialise PKCS#11 tokens", NULL, cmd_token_verbs},
	{"key", cmd_key, "generate the root key in the HSM and show its attributes", NULL, cmd_key_verbs},
	{"cert", cmd_cert, "make the root certificate; sign intermediates and end entities", NULL, cmd_cert_verbs},
	{"crl", cmd_crl, "sign the root's certificate revocation list", NULL, cmd_crl_verbs},
	{"media", cmd_media, "sign a file on the removable medium (its manifest)", NULL, cmd_media_verbs},
	{"transcript", cmd_transcript, "seal, verify, print and countersign ceremony transcripts", NULL, cmd_transcript_verbs},
	{"witness", cmd_witness, "give witnesses card keys for countersigning transcripts", NULL, cmd_witness_verbs},
	{"quorum", cmd_quorum, "fix who must approve each root operation; show it", NULL, cmd_quorum_verbs},
	{"audit", cmd_audit, "replay a root's whole history of transcripts, offline", &cmd_audit_spec, NULL},
	{"report", cmd_report, "answer the disclosure questions (pkilevel, spare shares, ...)", &cmd_report_spec, NULL},
	{"share", cmd_share, "split and combine SLIP-39 shares (drills, paper backups)", NULL, cmd_share_verbs},
	{"backup", cmd_backup, "back up the root key to Key Executive cards; recover it", NULL, cmd_backup_verbs},
	{"card", cmd_card, "show, verify and wipe Key Executive cards", NULL, cmd_card_verbs},
	{"csr", cmd_csr, "inspect and check certificate signing requests", NULL, cmd_csr_verbs},
	{NULL, NULL, NULL, NULL, NULL},
};

/*
 * cli — the command context, subcommand tables and the options every command shares.
 *
 * Owns: the common options (--module, --config, --transcript, --pin-source,
 * --so-pin-source, --ceremony, --help) accepted before or after a subcommand,
 * dispatch of "group verb" tables, and usage output. Does not own: the context
 * itself (context), any operation; cmd_*.c files parse their options and call
 * the modules.
 */
#ifndef CEREMONY_CLI_H
#define CEREMONY_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "ceremony/context.h"

struct cli_command {
	const char *name;
	int (*run)(struct ceremony_ctx *ctx, int argc, char **argv);
	const char *summary;
};

enum {
	OPT_MODULE = 1000,
	OPT_CONFIG,
	OPT_TRANSCRIPT,
	OPT_PIN_SOURCE,
	OPT_SO_PIN_SOURCE,
	OPT_CEREMONY,
	OPT_ALLOW_NETWORK,
	OPT_PREVIOUS,
	OPT_COMMON_LAST
};

/* Rows to put in every command's struct option table. */
#define CLI_COMMON_OPTIONS                                                                  \
	{"module", required_argument, NULL, OPT_MODULE},                                    \
	{"config", required_argument, NULL, OPT_CONFIG},                                    \
	{"transcript", required_argument, NULL, OPT_TRANSCRIPT},                            \
	{"pin-source", required_argument, NULL, OPT_PIN_SOURCE},                            \
	{"so-pin-source", required_argument, NULL, OPT_SO_PIN_SOURCE},                      \
	{"ceremony", required_argument, NULL, OPT_CEREMONY},                                \
	{"allow-network", no_argument, NULL, OPT_ALLOW_NETWORK},                            \
	{"previous", required_argument, NULL, OPT_PREVIOUS},                                \
	{"help", no_argument, NULL, 'h'}

#define CLI_COMMON_HELP                                                                     \
	"Common options (before or after the command):\n"                                   \
	"  --module PATH         PKCS#11 module (else $CEREMONY_MODULE, else ceremony.yaml)\n" \
	"  --config FILE         site configuration (default ./ceremony.yaml if present)\n"   \
	"  --transcript FILE     transcript to append to (required by commands that change "  \
	"things)\n"                                                                         \
	"  --pin-source SRC      user PIN from file:PATH (default: asked on the terminal)\n"  \
	"  --so-pin-source SRC   security officer PIN from file:PATH\n"                       \
	"  --ceremony ID         ceremony id recorded in a new transcript\n"                  \
	"  --previous FILE       the previous ceremony's sealed transcript (a new one links it)\n" \
	"  --allow-network       run although a network interface is up (recorded)\n"         \
	"  -h, --help            this help\n"

/* Handle a common option; CER_E_USAGE (with a message) for anything else. */
int cli_common_option(struct ceremony_ctx *ctx, int c, const char *arg);

/*
 * Parse options with getopt_long from argv[0] (the command's own name).
 * handle gets each command-specific option and returns 0, or non-zero if unknown.
 * Returns 0 with *first_arg the index of the first positional argument, 1 if
 * --help was printed, or CER_E_USAGE.
 */
int cli_getopt(struct ceremony_ctx *ctx, int argc, char **argv, const char *shortopts,
	       const struct option *longopts, const char *usage,
	       int (*handle)(void *state, int c, const char *arg), void *state, int *first_arg);

/* CER_E_USAGE if a long option in argv is not one of longopts spelled out whole. */
int cli_options_exact(int argc, char **argv, const char *shortopts,
		      const struct option *longopts, int stop_at_operand, const char *usage)
	__attribute__((warn_unused_result));

/* Run the subcommand argv[1] of group argv[0] from table; prints group help on -h. */
int cli_dispatch(struct ceremony_ctx *ctx, const char *group, const char *group_help,
		 const struct cli_command *table, int argc, char **argv);

/* Print "ceremony: usage error: msg" hint and return CER_E_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Require a value for a mandatory option. */
int cli_require(const char *value, const char *option, const char *usage);

#endif

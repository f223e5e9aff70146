/*
 * cli — the command context, subcommand tables and the options every command shares.
 *
 * Owns: the option tables (struct cli_opt) and parsing with them (cli_parse, no
 * option ever abbreviated), --help printed from them, the common options every
 * command takes before or after its name (cli_common_opts) and the quorum's approval
 * options (cli_approve_opts), dispatch of "group verb" tables, and usage errors.
 * Does not own: the context itself (context), any operation; cmd_*.c files hold
 * their commands' tables, parse with them and call the modules; the man pages'
 * OPTIONS sections are written from the same tables (tools/genman.c).
 */
#ifndef CEREMONY_CLI_H
#define CEREMONY_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "ceremony/context.h"

/*
 * One option of a command, the one source for it: cli_parse builds getopt_long's
 * table from these rows, --help prints them, and tools/genman.c writes each man
 * page's OPTIONS section from them (`make man`; test_docs fails when a checked-in
 * page differs). An option cannot be accepted without being documented.
 *
 * A row is one of:
 *   an option:   .name (without "--"), .arg (the value's name; NULL: no value), .val
 *                (what the handler gets), .help (its --help text, "\n" continues on the
 *                next line), .man (its man paragraph in roff, NULL: .help as a sentence;
 *                hyphens of option names are escaped for roff by genman), .short_name;
 *   a text:      .help printed as it is in --help, .man as it is in the man page;
 *   an include:  .include, another table whose options the command also accepts; its
 *                rows are printed in place, or the include row's own .help (--help) and
 *                .man (man page) where it has them;
 *   the end:     all zero (CLI_END).
 */
struct cli_opt {
	const char *name;
	const char *arg;
	int val;
	const char *help;
	const char *man;
	const struct cli_opt *include;
	char short_name;
};

#define CLI_END {NULL, NULL, 0, NULL, NULL, NULL, 0}

/* A command's --help: the usage (synopsis, description), its options, the common ones. */
struct cli_spec {
	const char *usage; /* "usage: ceremony crl sign ...\n...\n" */
	const struct cli_opt *opts;
};

struct cli_command {
	const char *name;
	int (*run)(struct ceremony_ctx *ctx, int argc, char **argv);
	const char *summary;
	const struct cli_spec *spec;	      /* the command's options; NULL: it has verbs */
	const struct cli_command *verbs; /* its verbs (for genman), or NULL */
};

/* The options every command takes; the approval options of commands a quorum approves. */
extern const struct cli_opt cli_common_opts[];
extern const struct cli_opt cli_approve_opts[];

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

/* What cli_approve_opts hands a command's handler. */
enum { OPT_APPROVERS = 3000, OPT_APPROVER_PINS };

/* Handle a common option; CER_E_USAGE (with a message) for anything else. */
int cli_common_option(struct ceremony_ctx *ctx, int c, const char *arg);

/*
 * Parse argv (argv[0] is the command's own name) with spec's options and the common
 * ones; handle gets each of the command's own options and returns 0, or non-zero for
 * a bad value. Returns 0 with *first_arg the index of the first positional argument,
 * 1 if --help was printed, or CER_E_USAGE.
 */
int cli_parse(struct ceremony_ctx *ctx, int argc, char **argv, const struct cli_spec *spec,
	      int (*handle)(void *state, int c, const char *arg), void *state, int *first_arg);

/* Print spec's --help: usage, the command's options, the common options. */
void cli_help(const struct cli_spec *spec, FILE *f);

/* "-v, --verbose" or "--token T" into tag; its length. */
int cli_opt_tag(const struct cli_opt *o, char *tag, size_t size);

/* 1 past the end of a table: a row with nothing in it. */
#define CLI_OPT_IS_END(o) \
	((o)->name == NULL && (o)->help == NULL && (o)->man == NULL && (o)->include == NULL)

/*
 * getopt_long's tables for spec (its options, their includes, the common ones):
 * longopts ends with a zero row. CER_E_INTERNAL if they do not fit (a bug).
 */
#define CLI_LONGOPTS_MAX 64
int cli_longopts(const struct cli_spec *spec, struct option longopts[CLI_LONGOPTS_MAX],
		 char shortopts[CLI_LONGOPTS_MAX])
	__attribute__((warn_unused_result));

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

/*
 * cli_split — the k-of-n options of `backup create|rekey` and `share split`, parsed once.
 *
 * Owns: --threshold K --shares N (one group) or --group-threshold G with one
 * --group T/N per group: which combinations are allowed, the ranges, and the
 * messages; integers given as options. Does not own: what the groups mean
 * (slip39, backup).
 */
#ifndef CEREMONY_CLI_SPLIT_H
#define CEREMONY_CLI_SPLIT_H

#include "ceremony/cli.h"
#include "ceremony/slip39.h"

/* The four options, one description for both commands (include them in a table). */
enum { OPT_SPLIT_THRESHOLD = 2000, OPT_SPLIT_SHARES, OPT_SPLIT_GROUP_THRESHOLD, OPT_SPLIT_GROUP };
extern const struct cli_opt cli_split_table[];

struct cli_split_opts {
	const char *threshold, *shares, *group_threshold;
	const char *groups[SLIP39_MAX_GROUPS + 1];
	int group_count; /* how many --group were given (may exceed the maximum: refused) */
};

/* Take option c if it is one of cli_split_table's: 0, or -1 for one --group too many;
 * 1 if c is not one of them. */
int cli_split_option(struct cli_split_opts *o, int c, const char *arg);

/* Into groups[] (SLIP39_MAX_GROUPS entries), *group_threshold, *group_count; a usage
 * error naming the option otherwise. */
int cli_split_parse(const struct cli_split_opts *o, const char *usage, struct slip39_group *groups,
		    int *group_threshold, int *group_count) __attribute__((warn_unused_result));

/* A decimal integer from lo to hi given for option; a usage error otherwise. */
int cli_parse_int(const char *s, const char *option, int lo, int hi, int *out)
	__attribute__((warn_unused_result));

#endif

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

#include "ceremony/slip39.h"

struct cli_split_opts {
	const char *threshold, *shares, *group_threshold;
	const char *groups[SLIP39_MAX_GROUPS + 1];
	int group_count; /* how many --group were given (may exceed the maximum: refused) */
};

/* Into groups[] (SLIP39_MAX_GROUPS entries), *group_threshold, *group_count; a usage
 * error naming the option otherwise. */
int cli_split_parse(const struct cli_split_opts *o, const char *usage, struct slip39_group *groups,
		    int *group_threshold, int *group_count) __attribute__((warn_unused_result));

/* A decimal integer from lo to hi given for option; a usage error otherwise. */
int cli_parse_int(const char *s, const char *option, int lo, int hi, int *out)
	__attribute__((warn_unused_result));

#endif

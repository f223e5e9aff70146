/* cli_split: the k-of-n options, parsed once (see include/ceremony/cli_split.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ceremony/cli.h"
#include "ceremony/cli_split.h"
#include "ceremony/err.h"

const struct cli_opt cli_split_table[] = {
	{.name = "threshold", .arg = "K", .val = OPT_SPLIT_THRESHOLD,
	 .help = "one group: any K of the N shares recover (with --shares)",
	 .man = "One group: any\n.I K\nof the\n.I N\nshares recover (with\n.BR --shares )."},
	{.name = "shares", .arg = "N", .val = OPT_SPLIT_SHARES,
	 .help = "one group of N shares (with --threshold)",
	 .man = "One group of\n.I N\nshares (with\n.BR --threshold )."},
	{.name = "group-threshold", .arg = "G", .val = OPT_SPLIT_GROUP_THRESHOLD,
	 .help = "two levels: G groups are needed, each given by --group",
	 .man = "Two levels:\n.I G\ngroups are needed, each given by\n.BR --group ."},
	{.name = "group", .arg = "T/N", .val = OPT_SPLIT_GROUP,
	 .help = "one group (repeatable, in order): T of its N shares",
	 .man = "One group (repeatable, in order):\n.I T\nof its\n.I N\nshares."},
	CLI_END,
};

int cli_split_option(struct cli_split_opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_SPLIT_THRESHOLD: o->threshold = arg; return 0;
	case OPT_SPLIT_SHARES: o->shares = arg; return 0;
	case OPT_SPLIT_GROUP_THRESHOLD: o->group_threshold = arg; return 0;
	case OPT_SPLIT_GROUP:
		if (o->group_count > SLIP39_MAX_GROUPS)
			return -1;
		o->groups[o->group_count++] = arg;
		return 0;
	default: return 1;
	}
}

int cli_parse_int(const char *s, const char *option, int lo, int hi, int *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] == '\0' || end == NULL || *end != '\0' || errno != 0 || v < lo || v > hi)
		return cli_usage_error(NULL, "%s \"%s\": expected a number from %d to %d", option, s,
				       lo, hi);
	*out = (int)v;
	return 0;
}

int cli_split_parse(const struct cli_split_opts *o, const char *usage, struct slip39_group *groups,
		    int *group_threshold, int *group_count)
{
	int r;

	if (o->group_count == 0) {
		if (o->group_threshold != NULL)
			return cli_usage_error(usage, "--group-threshold needs --group T/N");
		if ((r = cli_require(o->threshold, "--threshold", usage)) != 0 ||
		    (r = cli_require(o->shares, "--shares", usage)) != 0 ||
		    (r = cli_parse_int(o->shares, "--shares", 1, SLIP39_MAX_MEMBERS,
				       &groups[0].member_count)) != 0 ||
		    (r = cli_parse_int(o->threshold, "--threshold", 1, groups[0].member_count,
				       &groups[0].member_threshold)) != 0)
			return r;
		*group_threshold = *group_count = 1;
		return 0;
	}
	if (o->threshold != NULL || o->shares != NULL)
		return cli_usage_error(usage, "use either --threshold/--shares or --group, not both");
	if (o->group_count > SLIP39_MAX_GROUPS)
		return cli_usage_error(usage, "at most %d --group options", SLIP39_MAX_GROUPS);
	if ((r = cli_require(o->group_threshold, "--group-threshold", usage)) != 0 ||
	    (r = cli_parse_int(o->group_threshold, "--group-threshold", 1, o->group_count,
			       group_threshold)) != 0)
		return r;
	for (int g = 0; g < o->group_count; g++) {
		int t, n;
		char extra;
		if (sscanf(o->groups[g], "%d/%d%c", &t, &n, &extra) != 2 || t < 1 || t > n ||
		    n > SLIP39_MAX_MEMBERS)
			return cli_usage_error(usage, "--group \"%s\": expected T/N with 1 <= T <= N "
						      "<= %d (T of N shares)",
					       o->groups[g], SLIP39_MAX_MEMBERS);
		groups[g].member_threshold = t;
		groups[g].member_count = n;
	}
	*group_count = o->group_count;
	return 0;
}

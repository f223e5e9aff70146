/* cli_split: the k-of-n options, parsed once (see include/ceremony/cli_split.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ceremony/cli.h"
#include "ceremony/cli_split.h"
#include "ceremony/err.h"

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

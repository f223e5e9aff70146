/*
 * cli_archive — where an offline reader finds the files a transcript records:
 * --archive DIR, --folder NAME=DIR, --outside DIR, for `audit` and `transcript verify`.
 *
 * Owns: the three options, one description for both commands, and parsing them into
 * a struct archive_view. Does not own: what the view means (archive).
 */
#ifndef CEREMONY_CLI_ARCHIVE_H
#define CEREMONY_CLI_ARCHIVE_H

#include "ceremony/archive.h"
#include "ceremony/cli.h"

enum { OPT_ARCHIVE_ROOT = 2100, OPT_ARCHIVE_FOLDER, OPT_ARCHIVE_OUTSIDE };
extern const struct cli_opt cli_archive_table[];

struct cli_archive_opts {
	struct archive_view view;
	char *folders[ARCHIVE_FOLDERS_MAX]; /* --folder NAME=DIR, parsed by cli_archive_parse */
	size_t nfolders;
};

/* Take option c if it is one of cli_archive_table's: 0, or -1 for one too many;
 * 1 if c is not one of them. */
int cli_archive_option(struct cli_archive_opts *o, int c, const char *arg);

/* The --folder values into o->view; a usage error naming the bad one otherwise. */
int cli_archive_parse(struct cli_archive_opts *o, const char *usage)
	__attribute__((warn_unused_result));

#endif

/* cli_archive: --archive, --folder, --outside (see include/ceremony/cli_archive.h). */
#include "ceremony/cli_archive.h"
#include "ceremony/err.h"

const struct cli_opt cli_archive_table[] = {
	{.name = "archive", .arg = "DIR", .val = OPT_ARCHIVE_ROOT,
	 .help = "the CA's archive, which every recorded path is relative to\n"
		 "(default: the folder holding the transcripts' folder)",
	 .man = "The CA's archive, which every path a record names is relative to (default:\n"
		"the folder holding the transcripts' folder).\n"
		"A recorded path that is absolute or climbs with\n"
		".B ..\n"
		"is refused with the transcript's file and line."},
	{.name = "folder", .arg = "NAME=DIR", .val = OPT_ARCHIVE_FOLDER,
	 .help = "a copy laid out differently: recorded paths NAME/... are\n"
		 "found in DIR (e.g. out=/copy/certs, media=/copy/usb);\n"
		 "repeat for each folder",
	 .man = "For a copy laid out differently: recorded paths\n"
		".IB NAME /...\n"
		"are found in\n"
		".I DIR\n"
		"(e.g.\n"
		".B out=/copy/certs\n"
		"or\n"
		".BR media=/copy/usb ).\n"
		"Repeat for each folder."},
	{.name = "outside", .arg = "DIR", .val = OPT_ARCHIVE_OUTSIDE,
	 .help = "where copies of files recorded outside the archive (by name\n"
		 "and SHA-256: a removable medium, site profiles) are; repeat",
	 .man = "Where copies of the files recorded outside the archive are (a removable\n"
		"medium, a profile folder elsewhere: recorded by name and SHA-256 only); each\n"
		"is accepted only with its recorded SHA-256.\n"
		"Repeat for several folders."},
	CLI_END,
};

int cli_archive_option(struct cli_archive_opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_ARCHIVE_ROOT: o->view.root = arg; return 0;
	case OPT_ARCHIVE_FOLDER:
		if (o->nfolders == ARCHIVE_FOLDERS_MAX)
			return -1;
		o->folders[o->nfolders++] = (char *)arg; /* argv's own bytes */
		return 0;
	case OPT_ARCHIVE_OUTSIDE:
		if (o->view.n_outside == ARCHIVE_FOLDERS_MAX)
			return -1;
		o->view.outside[o->view.n_outside++] = arg;
		return 0;
	default: return 1;
	}
}

int cli_archive_parse(struct cli_archive_opts *o, const char *usage)
{
	for (size_t i = 0; i < o->nfolders; i++)
		if (archive_view_add_folder(&o->view, o->folders[i]) != 0)
			return cli_usage_error(usage, "%s", cer_err_msg(CER_E_USAGE));
	return 0;
}

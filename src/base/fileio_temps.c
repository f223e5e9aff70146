/* fileio_temps: remove the temporary files an interrupted atomic write left behind.
 * Owns: recognising our own temporary names (NAME.tmp- and 12 lowercase hex digits, as
 * file_write_new makes them) and removing those older than a given instant.
 * Does not own: which folders to sweep (the runner decides: the site's folders). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/textbuf.h"

enum { TEMP_HEX = 12, TEMP_MAX_DEPTH = 4 };

int file_is_write_temp(const char *name)
{
	const char *t = strstr(name, ".tmp-");
	size_t i;

	if (t == NULL || t == name)
		return 0;
	/* The last ".tmp-" decides: a real name may contain the text earlier. */
	for (const char *u; (u = strstr(t + 1, ".tmp-")) != NULL;)
		t = u;
	t += strlen(".tmp-");
	for (i = 0; t[i] != '\0'; i++)
		if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
			return 0;
	return i == TEMP_HEX;
}

static int older(const struct stat *st, const struct timespec *before)
{
	return st->st_mtim.tv_sec < before->tv_sec ||
	       (st->st_mtim.tv_sec == before->tv_sec && st->st_mtim.tv_nsec < before->tv_nsec);
}

static int sweep(const char *dir, const struct timespec *before, int depth, FILE *report,
		 size_t *removed)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	if (d == NULL)
		return errno == ENOENT ? 0
				       : cer_err(CER_E_IO, "%s: cannot read the folder: %s", dir,
						 strerror(errno));
	while (r == 0 && (de = readdir(d)) != NULL) {
		char path[PATH_MAX];
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue; /* gone meanwhile */
		if ((r = text_format(path, sizeof(path), "a path", "%s/%s", dir, de->d_name)) != 0)
			break;
		if (S_ISDIR(st.st_mode)) {
			if (depth < TEMP_MAX_DEPTH)
				r = sweep(path, before, depth + 1, report, removed);
			continue;
		}
		if (!S_ISREG(st.st_mode) || !file_is_write_temp(de->d_name) || !older(&st, before))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) != 0 && errno != ENOENT) {
			r = cer_err(CER_E_IO, "%s: a temporary file an interrupted write left: cannot "
					      "remove it: %s",
				    path, strerror(errno));
			break;
		}
		(*removed)++;
		if (report != NULL)
			fprintf(report, "Removed %s: a temporary file an interrupted write left "
					"(never a finished or recorded file).\n",
				path);
	}
	if (closedir(d) != 0 && r == 0)
		r = cer_err(CER_E_IO, "%s: cannot close the folder: %s", dir, strerror(errno));
	return r;
}

int file_remove_stale_temps(const char *dir, const struct timespec *before, FILE *report,
			    size_t *removed)
{
	int r = sweep(dir, before, 0, report, removed);

	if (r == 0 && *removed > 0)
		r = file_sync_dir(dir);
	return r;
}

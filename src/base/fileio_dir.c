/* fileio_dir: folder listings, copies and mkdir -p (see include/ceremony/fileio.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceremony/err.h"
#include "ceremony/fileio.h"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void file_names_free(char **names)
{
	if (names == NULL)
		return;
	for (char **p = names; *p != NULL; p++)
		free(*p);
	free(names);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a > b && strcmp(s + a - b, suffix) == 0;
}

int file_list_dir(const char *dir, const char *suffix, size_t max, char ***names, size_t *n)
{
	DIR *d;
	struct dirent *de;
	char **list = NULL;
	size_t cap = 0, used = 0;
	int r = 0;

	*names = NULL;
	*n = 0;
	d = opendir(dir);
	if (d == NULL)
		return cer_err(errno == ENOENT ? CER_E_NOTFOUND : CER_E_IO, "%s: cannot read the folder: %s",
			       dir, strerror(errno));
	while (r == 0 && (de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.' || (suffix[0] != '\0' && !ends_with(de->d_name, suffix)))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (used == max) {
			r = cer_err(CER_E_INPUT, "%s: more than %zu files", dir, max);
			break;
		}
		if (used + 2 > cap) {
			size_t ncap = cap == 0 ? 16 : cap * 2;
			char **grown = realloc(list, ncap * sizeof(*grown));
			if (grown == NULL) {
				r = cer_err(CER_E_NOMEM, "out of memory");
				break;
			}
			list = grown;
			cap = ncap;
		}
		if ((list[used] = strdup(de->d_name)) == NULL)
			r = cer_err(CER_E_NOMEM, "out of memory");
		else
			list[++used] = NULL;
	}
	closedir(d);
	if (r == 0 && list == NULL && (list = calloc(1, sizeof(*list))) == NULL)
		r = cer_err(CER_E_NOMEM, "out of memory");
	if (r != 0) {
		file_names_free(list);
		return r;
	}
	qsort(list, used, sizeof(list[0]), by_name);
	*names = list;
	*n = used;
	return 0;
}

int file_copy_new(const char *src, const char *dst, size_t max)
{
	uint8_t *data = NULL;
	size_t len = 0;
	struct stat st;
	int r;

	if (lstat(src, &st) != 0)
		return cer_err(CER_E_NOTFOUND, "%s: %s", src, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return cer_err(CER_E_INPUT, "%s: not a regular file", src);
	if ((r = file_read_all(src, max, &data, &len)) == 0)
		r = file_write_new(dst, data, len);
	free(data);
	return r;
}

int file_mkdirs(const char *path, unsigned mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return cer_err(CER_E_INPUT, "%s: path too long", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
				return cer_err(CER_E_IO, "%s: cannot make the folder: %s", buf,
					       strerror(errno));
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

int file_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return cer_err(CER_E_IO, "%s: cannot open the folder: %s", dir, strerror(errno));
	if (fsync(fd) != 0)
		r = cer_err(CER_E_IO, "%s: cannot sync the folder: %s", dir, strerror(errno));
	if (close(fd) != 0 && r == 0)
		r = cer_err(CER_E_IO, "%s: cannot close the folder: %s", dir, strerror(errno));
	return r;
}

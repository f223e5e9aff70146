#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "ceremony/err.h"
#include "ceremony/fileio.h"

static int dir_of(const char *path, char *dir, size_t size)
{
	char copy[PATH_MAX];

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return cer_err(CER_E_INPUT, "%.64s...: path too long", path);
	if (snprintf(dir, size, "%s", dirname(copy)) >= (int)size)
		return cer_err(CER_E_INPUT, "%.64s...: path too long", path);
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return cer_err(CER_E_IO, "%s: cannot open folder: %s", dir, strerror(errno));
	if (fsync(fd) != 0)
		r = cer_err(CER_E_IO, "%s: cannot sync folder: %s", dir, strerror(errno));
	close(fd);
	return r;
}

static int write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int file_check_new(const char *path)
{
	char dir[PATH_MAX];
	struct stat st;
	int r;

	if (file_exists(path))
		return cer_err(CER_E_EXISTS, "%s: already exists; refusing to overwrite it", path);
	if ((r = dir_of(path, dir, sizeof(dir))) != 0)
		return r;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return cer_err(CER_E_IO, "%s: folder %s does not exist", path, dir);
	return 0;
}

static int link_error(const char *path)
{
	return errno == EEXIST
		       ? cer_err(CER_E_EXISTS, "%s: already exists; refusing to overwrite it", path)
		       : cer_err(CER_E_IO, "%s: cannot create: %s", path, strerror(errno));
}

/*
 * The file is written unnamed (O_TMPFILE) and given its name at the end, so a kill at any
 * point leaves nothing behind. 1: this file system (vfat, say) or a missing /proc cannot,
 * nothing was created: use a named temporary file.
 */
static int write_unnamed(const char *path, const char *dir, const void *data, size_t len,
			 mode_t mode, int sync)
{
	char self[64];
	int fd, r = 0;

	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL
			       ? 1
			       : cer_err(CER_E_IO, "%s: cannot create: %s", path, strerror(errno));
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || (sync && fsync(fd) != 0))
		r = cer_err(CER_E_IO, "%s: cannot write: %s", path, strerror(errno));
	else if (snprintf(self, sizeof(self), "/proc/self/fd/%d", fd) >= (int)sizeof(self))
		r = cer_err(CER_E_INTERNAL, "a file descriptor's name does not fit");
	/* link(2), unlike rename(2), fails with EEXIST instead of replacing. */
	else if (linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW) != 0)
		r = errno == ENOENT && access("/proc/self/fd", X_OK) != 0 ? 1 : link_error(path);
	if (close(fd) != 0 && r == 0)
		r = cer_err(CER_E_IO, "%s: cannot close: %s", path, strerror(errno));
	return r;
}

/* Where O_TMPFILE cannot be: a named temporary file (NAME.tmp-<12 hex>, which the runner
 * sweeps after a kill), linked to its name, then removed. */
static int write_named_temp(const char *path, const void *data, size_t len, mode_t mode, int sync)
{
	char tmp[PATH_MAX];
	uint8_t rnd[6];
	int fd, r = 0;

	randombytes_buf(rnd, sizeof(rnd));
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-%02x%02x%02x%02x%02x%02x", path, rnd[0], rnd[1],
		     rnd[2], rnd[3], rnd[4], rnd[5]) >= (int)sizeof(tmp))
		return cer_err(CER_E_INPUT, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return cer_err(CER_E_IO, "%s: cannot create: %s", tmp, strerror(errno));
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || (sync && fsync(fd) != 0))
		r = cer_err(CER_E_IO, "%s: cannot write: %s", tmp, strerror(errno));
	if (close(fd) != 0 && r == 0)
		r = cer_err(CER_E_IO, "%s: cannot close: %s", tmp, strerror(errno));
	if (r == 0 && link(tmp, path) != 0)
		r = link_error(path);
	if (unlink(tmp) != 0 && r == 0)
		r = cer_err(CER_E_IO, "%s was written, but its temporary file %s cannot be removed: %s",
			    path, tmp, strerror(errno));
	return r;
}

static int write_new_mode(const char *path, const void *data, size_t len, mode_t mode, int sync)
{
	char dir[PATH_MAX];
	int r;

	if ((r = file_check_new(path)) != 0)
		return r;
	if ((r = dir_of(path, dir, sizeof(dir))) != 0)
		return r;
	r = write_unnamed(path, dir, data, len, mode, sync);
	if (r == 1)
		r = write_named_temp(path, data, len, mode, sync);
	/* One folder sync makes the new name (and a temporary name's removal) durable. */
	if (r == 0 && sync)
		r = fsync_dir(dir);
	return r;
}

int file_write_new(const char *path, const void *data, size_t len)
{
	return write_new_mode(path, data, len, 0600, 1);
}

int file_write_public(const char *path, const void *data, size_t len)
{
	/* Certificates and CRLs are public: readable by everyone, whatever the umask. */
	return write_new_mode(path, data, len, 0644, 1);
}

int file_write_public_unsynced(const char *path, const void *data, size_t len)
{
	return write_new_mode(path, data, len, 0644, 0);
}

int file_sync_fs(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return cer_err(CER_E_IO, "%s: cannot open: %s", path, strerror(errno));
	if (syncfs(fd) != 0)
		r = cer_err(CER_E_IO, "%s: cannot sync its file system: %s", path, strerror(errno));
	close(fd);
	return r;
}

/*
 * Open a file someone else may have named: O_NONBLOCK, so a FIFO or a device cannot
 * block the open (STYLE 18), and a regular file only, so nothing can be read without
 * end. *size is its size now.
 */
static int open_regular(const char *path, int *fd_out, size_t *size)
{
	struct stat st;
	int fd;

	*fd_out = -1;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return cer_err(errno == ENOENT ? CER_E_NOTFOUND : CER_E_IO, "%s: cannot open: %s",
			       path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cer_err(CER_E_INPUT, "%s: not a regular file (a pipe, device or folder is "
					    "never read)",
			       path);
	}
	*fd_out = fd;
	*size = (size_t)st.st_size;
	return 0;
}

/* One read(2) of at most len bytes, again after EINTR; *got is 0 at the end of the file. */
static int read_once(int fd, void *buf, size_t len, const char *path, size_t *got)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return cer_err(CER_E_IO, "%s: cannot read: %s", path, strerror(errno));
	*got = (size_t)n;
	return 0;
}

int file_read_all(const char *path, size_t max, uint8_t **out, size_t *len)
{
	uint8_t *buf = NULL;
	size_t cap = 0;
	int r;

	*out = NULL;
	if ((r = file_read_reuse(path, max, &buf, &cap, len)) != 0) {
		free(buf);
		return r;
	}
	*out = buf;
	return 0;
}

int file_read_reuse(const char *path, size_t max, uint8_t **bufp, size_t *capp, size_t *len)
{
	uint8_t *buf = *bufp, *grown;
	size_t total = 0, cap = *capp, size = 0;
	int fd, r;

	*len = 0;
	if ((r = open_regular(path, &fd, &size)) != 0)
		return r;
	if (size > max) {
		r = cer_err(CER_E_INPUT, "%s: %zu bytes is more than the %zu allowed", path, size,
			    max);
		goto out;
	}
	/* As much as the file holds now (not max: a 256 MiB cap is not a 256 MiB buffer),
	 * growing only if it grows while we read, never past max. A buffer kept from an
	 * earlier read is reused when it is big enough (cap + 1 bytes are allocated). */
	if (buf == NULL || cap < size + 1) {
		grown = realloc(buf, size + 2);
		if (grown == NULL) {
			r = cer_err(CER_E_NOMEM, "%s: out of memory", path);
			goto out;
		}
		buf = grown;
		cap = size + 1;
	}
	for (;;) {
		size_t n;
		if (total == cap) {
			size_t want = cap > max / 2 ? max + 1 : cap * 2;
			if (total > max) {
				r = cer_err(CER_E_INPUT, "%s: more than the %zu bytes allowed", path,
					    max);
				goto out;
			}
			grown = realloc(buf, want + 1);
			if (grown == NULL) {
				r = cer_err(CER_E_NOMEM, "%s: out of memory", path);
				goto out;
			}
			buf = grown;
			cap = want;
		}
		if ((r = read_once(fd, buf + total, cap - total, path, &n)) != 0)
			goto out;
		if (n == 0)
			break;
		total += n;
		if (total > max) {
			r = cer_err(CER_E_INPUT, "%s: more than the %zu bytes allowed", path, max);
			goto out;
		}
	}
	buf[total] = '\0';
	*len = total;
	r = 0;
out:
	*bufp = buf;
	*capp = cap;
	close(fd);
	return r;
}

int file_sha256(const char *path, uint8_t out[static SHA256_LEN])
{
	EVP_MD_CTX *md = NULL;
	uint8_t chunk[65536];
	unsigned int mdlen = 0;
	size_t size = 0;
	int fd, r = CER_E_CRYPTO;

	if ((r = open_regular(path, &fd, &size)) != 0)
		return r;
	if (size > FILE_HASH_MAX_BYTES) {
		close(fd);
		return cer_err(CER_E_INPUT, "%s: %zu bytes is more than the %llu this tool hashes",
			       path, size, (unsigned long long)FILE_HASH_MAX_BYTES);
	}
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) <= 0) {
		r = cer_err_ssl(CER_E_CRYPTO, "%s: cannot hash", path);
		goto out;
	}
	for (;;) {
		size_t n;
		if ((r = read_once(fd, chunk, sizeof(chunk), path, &n)) != 0)
			goto out;
		if (n == 0)
			break;
		if (EVP_DigestUpdate(md, chunk, n) <= 0) {
			r = cer_err_ssl(CER_E_CRYPTO, "%s: cannot hash", path);
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(md, out, &mdlen) <= 0 || mdlen != SHA256_LEN) {
		r = cer_err_ssl(CER_E_CRYPTO, "%s: cannot hash", path);
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(md);
	close(fd);
	return r;
}

/* Append and fsync (and fsync the folder of a new file); per_line: one write per line. */
static int append_sync(const char *path, const char *data, size_t len, int per_line)
{
	char dir[PATH_MAX];
	int fd, r = 0, is_new;

	is_new = !file_exists(path);
	if ((r = dir_of(path, dir, sizeof(dir))) != 0)
		return r;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return cer_err(CER_E_IO, "%s: cannot open for appending: %s", path,
			       strerror(errno));
	/* One write per line, as a single append would be: a kill cuts at most one line. */
	for (size_t off = 0; off < len && r == 0;) {
		const char *nl = per_line ? memchr(data + off, '\n', len - off) : NULL;
		size_t n = nl != NULL ? (size_t)(nl - (data + off)) + 1 : len - off;
		if (write_all(fd, data + off, n) != 0)
			r = cer_err(CER_E_IO, "%s: cannot append: %s", path, strerror(errno));
		off += n;
	}
	if (r == 0 && fsync(fd) != 0)
		r = cer_err(CER_E_IO, "%s: cannot append: %s", path, strerror(errno));
	if (close(fd) != 0 && r == 0)
		r = cer_err(CER_E_IO, "%s: cannot close: %s", path, strerror(errno));
	if (r == 0 && is_new)
		r = fsync_dir(dir);
	return r;
}

int file_append_lines_sync(const char *path, const char *data, size_t len)
{
	return append_sync(path, data, len, 1);
}

int file_append_sync(const char *path, const void *data, size_t len)
{
	return append_sync(path, data, len, 0);
}

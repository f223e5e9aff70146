/*
 * fileio — the one way files are read and written.
 *
 * Owns: atomic creation of outputs (temp file in the same folder, O_EXCL,
 * fsync, link into place without replacing anything, fsync the folder),
 * bounded reads of whole files, SHA-256 of files, and the transcript's
 * append-and-fsync. Does not own: what the bytes mean.
 */
#ifndef CEREMONY_FILEIO_H
#define CEREMONY_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "ceremony/sizes.h"

/* The largest file file_sha256 hashes (a medium's firmware images fit; no endless file). */
#define FILE_HASH_MAX_BYTES (64ULL * 1024 * 1024 * 1024)

/* Create path with exactly data; CER_E_EXISTS if path exists (nothing is replaced). */
int file_write_new(const char *path, const void *data, size_t len)
	__attribute__((warn_unused_result));

/*
 * The same without any fsync, for many outputs made durable together by one
 * file_sync_fs before anything records or reports them.
 */
int file_write_public_unsynced(const char *path, const void *data, size_t len)
	__attribute__((warn_unused_result));
/* syncfs(2) of the file system holding path: every write to it so far is durable. */
int file_sync_fs(const char *path) __attribute__((warn_unused_result));

/* Fail with CER_E_EXISTS if path exists, CER_E_IO if its folder is missing. */
int file_check_new(const char *path) __attribute__((warn_unused_result));

/* file_write_new, mode 0644: for what is public (certificates, CRLs), never for secrets. */
int file_write_public(const char *path, const void *data, size_t len)
	__attribute__((warn_unused_result));

/*
 * Read the whole file (at most max bytes, else CER_E_INPUT). A regular file only, opened
 * O_NONBLOCK (a pipe or device is refused, never waited on); the buffer is the file's
 * size, not max. *out is malloc'd, NUL-terminated.
 */
int file_read_all(const char *path, size_t max, uint8_t **out, size_t *len)
	__attribute__((warn_unused_result));
/*
 * The same into a buffer the caller keeps across reads (*buf NULL and *cap 0 at first;
 * grown as needed, freed by the caller, also after an error): many files, one buffer.
 */
int file_read_reuse(const char *path, size_t max, uint8_t **buf, size_t *cap, size_t *len)
	__attribute__((warn_unused_result));

/* SHA-256 of a regular file (opened O_NONBLOCK; a pipe or device is refused). */
int file_sha256(const char *path, uint8_t out[static SHA256_LEN])
	__attribute__((warn_unused_result));

/* Append data and fsync before returning (creating the file, and fsyncing its folder, if new). */
int file_append_sync(const char *path, const void *data, size_t len)
	__attribute__((warn_unused_result));

/* The same for many lines: one write(2) per line, one fsync for all. */
int file_append_lines_sync(const char *path, const char *data, size_t len)
	__attribute__((warn_unused_result));

int file_exists(const char *path);

/* The names of the regular files (links not followed, dot files left out) in dir that
 * end in suffix ("" for all), sorted; at most max, else CER_E_INPUT. *names is a
 * NULL-terminated array freed with file_names_free. */
int file_list_dir(const char *dir, const char *suffix, size_t max, char ***names, size_t *n)
	__attribute__((warn_unused_result));
void file_names_free(char **names);

/* Copy src (a regular file, at most max bytes) to a new dst (file_write_new). */
int file_copy_new(const char *src, const char *dst, size_t max) __attribute__((warn_unused_result));

/* fsync a folder, so the names created in it are on disk. */
int file_sync_dir(const char *dir) __attribute__((warn_unused_result));

/* 1 if name is a temporary name of file_write_new's (NAME.tmp- and 12 lowercase hex). */
int file_is_write_temp(const char *name);

/* Remove, in dir and its folders (4 deep, links not followed), the regular files with a
 * temporary name of file_write_new's last changed before *before: what a killed write left.
 * Each removal is printed on report (if not NULL) and counted in *removed (add to it);
 * a file that cannot be removed is an error. */
int file_remove_stale_temps(const char *dir, const struct timespec *before, FILE *report,
			    size_t *removed) __attribute__((warn_unused_result));

/* mkdir -p with mode; existing folders are fine. */
int file_mkdirs(const char *path, unsigned mode) __attribute__((warn_unused_result));

#endif

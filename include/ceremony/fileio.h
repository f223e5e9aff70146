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

#define FILE_SHA256_LEN 32

/* Create path with exactly data; CER_E_EXISTS if path exists (nothing is replaced). */
int file_write_new(const char *path, const void *data, size_t len)
	__attribute__((warn_unused_result));

/* Fail with CER_E_EXISTS if path exists, CER_E_IO if its folder is missing. */
int file_check_new(const char *path) __attribute__((warn_unused_result));

/* Read the whole file (at most max bytes, else CER_E_INPUT). *out is malloc'd, NUL-terminated. */
int file_read_all(const char *path, size_t max, uint8_t **out, size_t *len)
	__attribute__((warn_unused_result));

int file_sha256(const char *path, uint8_t out[static FILE_SHA256_LEN])
	__attribute__((warn_unused_result));

/* Append data and fsync before returning (creating the file, and fsyncing its folder, if new). */
int file_append_sync(const char *path, const void *data, size_t len)
	__attribute__((warn_unused_result));

int file_exists(const char *path);

#endif

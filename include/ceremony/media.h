/*
 * media — the removable medium: what was on it, and what the ceremony wrote to it.
 *
 * Owns: hashing every regular file under a folder (no symlinks followed,
 * bounded), the difference between two such manifests (what was written or
 * changed), and the MANIFEST.sha256 text (sha256sum's format, sorted) with its
 * detached CMS signature MANIFEST.sha256.sig. Does not own: signing keys (cms,
 * hsmkey).
 */
#ifndef CEREMONY_MEDIA_H
#define CEREMONY_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ceremony/sizes.h"

#define MEDIA_MAX_FILES 10000
#define MEDIA_MANIFEST_NAME "MANIFEST.sha256"

struct media_file {
	char *path; /* relative to the medium's root */
	uint8_t sha256[SHA256_LEN];
};

struct media_manifest {
	size_t n;
	struct media_file *files; /* sorted by path */
};

int media_scan(const char *dir, struct media_manifest **out) __attribute__((warn_unused_result));
void media_manifest_free(struct media_manifest *m);
/* [{path, sha256}, ...] */
json_t *media_manifest_json(const struct media_manifest *m);
/* The files of after that are not in before with the same hash. */
int media_written(const struct media_manifest *before, const struct media_manifest *after,
		  struct media_manifest **out) __attribute__((warn_unused_result));
/* "hex  path\n" lines, as sha256sum -c reads them; *buf malloc'd. */
int media_manifest_text(const struct media_manifest *m, uint8_t **buf, size_t *len)
	__attribute__((warn_unused_result));
/* Rebuild a manifest from the json a transcript recorded. */
int media_manifest_from_json(json_t *files, struct media_manifest **out)
	__attribute__((warn_unused_result));

#endif

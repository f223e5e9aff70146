/*
 * archive — where the files a transcript names live (issue 10 item 7, issue 11 item 4).
 *
 * The CA's archive is the folder that holds the transcripts' folder (site/ for
 * site/transcripts, site/out, site/media, ...: ceremony.yaml's `transcripts:` parent).
 * Every path a record names is relative to it, with no leading "/" and no "." or ".."
 * segment, so a copy of the archive anywhere reads the same. A file outside it (a
 * removable medium or a profile folder the site configuration keeps elsewhere) is
 * recorded by its base name and SHA-256 with "outside_archive": true, never by its
 * absolute path. An auditor whose copy is laid out differently names the archive's
 * root, each folder, and where copies of outside files are (struct archive_view).
 *
 * Owns: the recorded form of a path (writing), and resolving a recorded path to a
 * file (reading: verify, replay, audit, report, backups, the recovery kit).
 */
#ifndef CEREMONY_ARCHIVE_H
#define CEREMONY_ARCHIVE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ceremony/sizes.h"

#define ARCHIVE_FOLDERS_MAX 16

struct archive_folder {
	const char *name; /* a recorded path's first segment, e.g. "out" */
	const char *dir;  /* where that folder is in this copy */
};

/* How a reader finds the archive. All fields may be empty: the default layout. */
struct archive_view {
	const char *root; /* NULL: the folder holding each transcript's folder */
	struct archive_folder folders[ARCHIVE_FOLDERS_MAX];
	size_t n_folders;
	const char *outside[ARCHIVE_FOLDERS_MAX]; /* copies of files recorded outside the archive */
	size_t n_outside;
};

/* The archive of a transcript: the real path of its folder's parent. */
int archive_root_of(const char *transcript, char out[PATH_MAX])
	__attribute__((warn_unused_result));

/* 1 if recorded is a path a record may hold: relative, not empty, no "", "." or ".."
 * segment, no control character. */
int archive_path_valid(const char *recorded);

/*
 * The recorded form of path (which need not exist yet; its folder must): relative to
 * root (a real path) when inside it, else its base name with *outside set.
 */
int archive_relative(const char *root, const char *path, char *out, size_t size, int *outside)
	__attribute__((warn_unused_result));

/* {"path", "sha256"} of an existing file, with "outside_archive": true when outside. */
int archive_data_entry(const char *root, const char *path, const uint8_t sha256[SHA256_LEN],
		       json_t **out) __attribute__((warn_unused_result));
/* The same, hashing the file. */
int archive_file_entry(const char *root, const char *path, json_t **out)
	__attribute__((warn_unused_result));

/*
 * details[key] = the recorded form of path; details[key "_outside_archive"] = true when
 * path is outside the archive. For a file or folder a record names without its hash.
 */
int archive_note_path(const char *root, const char *path, json_t *details, const char *key)
	__attribute__((warn_unused_result));

/*
 * The file a record (at line, 0 if unknown, for messages) of transcript names: recorded (outside: recorded outside the
 * archive, so only its name is known) resolved through view (NULL: the default).
 * 0 with out set (the file may not exist); CER_E_VERIFY, with a message naming it, if
 * recorded is not a path a record may hold (absolute, "..": a hostile or foreign
 * transcript); CER_E_REFUSED, with a message, if it leads out of the archive through
 * a symlink; CER_E_NOTFOUND, with a message, for an outside file the view has no copy of.
 */
int archive_resolve(const struct archive_view *view, const char *transcript, long line,
		    const char *recorded, int outside, char out[PATH_MAX])
	__attribute__((warn_unused_result));

/* The same for a {"path", "sha256"[, "outside_archive"]} entry. */
int archive_resolve_entry(const struct archive_view *view, const char *transcript, long line,
			  json_t *entry, char out[PATH_MAX]) __attribute__((warn_unused_result));

/* Parse NAME=DIR into view->folders (pointing into arg). 0, or CER_E_USAGE. */
int archive_view_add_folder(struct archive_view *view, char *arg)
	__attribute__((warn_unused_result));

#endif

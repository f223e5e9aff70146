#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ceremony/archive.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"

/* The folder part of path (copied into out): "." when it has none, "/" for "/x". */
static int folder_of(const char *path, char out[PATH_MAX], const char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		*base = path;
		return snprintf(out, PATH_MAX, ".") >= PATH_MAX ? -1 : 0;
	}
	*base = slash + 1;
	if (slash == path)
		return snprintf(out, PATH_MAX, "/") >= PATH_MAX ? -1 : 0;
	if ((size_t)(slash - path) >= PATH_MAX)
		return -1;
	memcpy(out, path, (size_t)(slash - path));
	out[slash - path] = '\0';
	return 0;
}

static int has_control(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return s == NULL;
}

/* root and path are real (absolute, canonical) paths. */
static int inside(const char *root, const char *path)
{
	size_t n = strlen(root);

	if (strcmp(root, "/") == 0)
		return path[0] == '/';
	return strncmp(path, root, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

int archive_root_of(const char *transcript, char out[PATH_MAX])
{
	char folder[PATH_MAX], real[PATH_MAX];
	const char *base;
	char *slash;

	if (folder_of(transcript, folder, &base) != 0)
		return cer_err(CER_E_INPUT, "%s: path too long", transcript);
	if (realpath(folder, real) == NULL)
		return cer_err(CER_E_IO, "%s: its folder does not exist: %s", transcript,
			       strerror(errno));
	slash = strrchr(real, '/');
	if (slash != NULL && slash != real)
		*slash = '\0';
	else if (slash != NULL)
		slash[1] = '\0';
	memcpy(out, real, strlen(real) + 1);
	return 0;
}

int archive_path_valid(const char *recorded)
{
	size_t n;

	if (recorded == NULL || recorded[0] == '\0' || recorded[0] == '/')
		return 0;
	if (has_control(recorded))
		return 0;
	for (const char *p = recorded;; p += n + 1) {
		n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (p[n] == '\0')
			return 1;
	}
}

/* The real path of path, which need not exist as long as its folder does. */
static int real_of(const char *path, char out[PATH_MAX])
{
	char folder[PATH_MAX], real[PATH_MAX];
	const char *base;

	if (realpath(path, out) != NULL)
		return 0;
	if (folder_of(path, folder, &base) != 0)
		return cer_err(CER_E_INPUT, "%s: path too long", path);
	if (realpath(folder, real) == NULL)
		return cer_err(CER_E_NOTFOUND, "%s: its folder does not exist: %s", path,
			       strerror(errno));
	if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return cer_err(CER_E_INPUT, "%s: not a file name", path);
	if (snprintf(out, PATH_MAX, "%s%s%s", real, strcmp(real, "/") == 0 ? "" : "/", base) >=
	    PATH_MAX)
		return cer_err(CER_E_INPUT, "%s: path too long", path);
	return 0;
}

/* archive_relative of real, path's real path (path names it in messages). */
static int relative_of_real(const char *root, const char *real, const char *path, char *out,
			    size_t size, int *outside)
{
	const char *rel, *slash;

	*outside = !inside(root, real) || strcmp(root, real) == 0;
	if (!*outside)
		rel = real + strlen(root) + (strcmp(root, "/") == 0 ? 0 : 1);
	else
		rel = (slash = strrchr(real, '/')) != NULL && slash[1] != '\0' ? slash + 1 : real;
	if (snprintf(out, size, "%s", rel) >= (int)size)
		return cer_err(CER_E_INPUT, "%s: path too long", path);
	if (!archive_path_valid(out))
		return cer_err(CER_E_INPUT,
			       "%s: cannot be recorded (a control character in its name, or it is "
			       "the archive's own folder)",
			       path);
	return 0;
}

int archive_relative(const char *root, const char *path, char *out, size_t size, int *outside)
{
	char real[PATH_MAX];
	int r;

	if ((r = real_of(path, real)) != 0)
		return r;
	return relative_of_real(root, real, path, out, size, outside);
}

int archive_data_entry(const char *root, const char *path, const uint8_t sha256[SHA256_LEN],
		       json_t **out)
{
	char real[PATH_MAX], rel[PATH_MAX], hex[SHA256_HEX_SIZE];
	int outside, r;

	*out = NULL;
	/* One realpath a file (a batch records three files a certificate). */
	if (realpath(path, real) == NULL)
		return cer_err(CER_E_NOTFOUND, "%s: %s", path, strerror(errno));
	if ((r = relative_of_real(root, real, real, rel, sizeof(rel), &outside)) != 0)
		return r;
	hex_encode(sha256, SHA256_LEN, hex);
	*out = outside ? json_pack("{s:s, s:s, s:b}", "path", rel, "sha256", hex,
				   "outside_archive", 1)
		       : json_pack("{s:s, s:s}", "path", rel, "sha256", hex);
	return *out == NULL ? cer_err(CER_E_NOMEM, "out of memory") : 0;
}

int archive_file_entry(const char *root, const char *path, json_t **out)
{
	uint8_t md[SHA256_LEN];
	int r;

	*out = NULL;
	if ((r = file_sha256(path, md)) != 0)
		return r;
	return archive_data_entry(root, path, md, out);
}

int archive_note_path(const char *root, const char *path, json_t *details, const char *key)
{
	char rel[PATH_MAX], flag[128];
	int outside, r;

	if ((r = archive_relative(root, path, rel, sizeof(rel), &outside)) != 0)
		return r;
	if (snprintf(flag, sizeof(flag), "%s_outside_archive", key) >= (int)sizeof(flag))
		return cer_err(CER_E_INTERNAL, "field name too long");
	if (json_object_set_new(details, key, json_string(rel)) != 0 ||
	    (outside && json_object_set_new(details, flag, json_true()) != 0))
		return cer_err(CER_E_NOMEM, "out of memory");
	return 0;
}

/* A copy of a file recorded outside the archive, looked up by name in the view's folders. */
static int resolve_outside(const struct archive_view *view, const char *transcript,
			   const char *recorded, char out[PATH_MAX])
{
	struct stat st;

	if (strchr(recorded, '/') != NULL)
		return cer_err(CER_E_VERIFY,
			       "%s: \"%s\" is marked outside the archive but is not a bare file "
			       "name: refused, not followed",
			       transcript, recorded);
	for (size_t i = 0; view != NULL && i < view->n_outside; i++) {
		if (snprintf(out, PATH_MAX, "%s/%s", view->outside[i], recorded) >= PATH_MAX)
			return cer_err(CER_E_INPUT, "%s: path too long", view->outside[i]);
		if (lstat(out, &st) == 0 && S_ISREG(st.st_mode))
			return 0;
	}
	return cer_err(CER_E_NOTFOUND,
		       "%s: %s was outside the CA's archive when recorded (only its name and "
		       "SHA-256 are kept): not checked; name a folder holding a copy "
		       "(audit --outside DIR)",
		       transcript, recorded);
}

int archive_resolve(const struct archive_view *view, const char *transcript, long line,
		    const char *recorded, int outside, char out[PATH_MAX])
{
	char where[PATH_MAX + 32];
	char base[PATH_MAX], folder[PATH_MAX], real[PATH_MAX];
	const char *rest = recorded, *name, *given = NULL;
	struct stat st;
	size_t seg;

	if (line > 0)
		text_format_cut(where, sizeof(where), "%s line %ld", transcript, line);
	else
		text_format_cut(where, sizeof(where), "%s", transcript);
	transcript = where;
	if (!archive_path_valid(recorded))
		return cer_err(CER_E_VERIFY,
			       "%s: a record names a file by \"%.200s\", which is not a path "
			       "relative to the CA's archive (absolute, empty, with a \".\" or "
			       "\"..\" segment, or a control character): refused, not followed",
			       transcript, has_control(recorded) ? "(unprintable)" : recorded);
	if (outside)
		return resolve_outside(view, transcript, recorded, out);
	seg = strcspn(recorded, "/");
	for (size_t i = 0; view != NULL && i < view->n_folders; i++)
		if (strlen(view->folders[i].name) == seg &&
		    strncmp(view->folders[i].name, recorded, seg) == 0) {
			given = view->folders[i].dir;
			rest = recorded[seg] == '/' ? recorded + seg + 1 : "";
			break;
		}
	if (given == NULL && view != NULL && view->root != NULL)
		given = view->root;
	if (given != NULL) {
		if (realpath(given, base) == NULL)
			return cer_err(CER_E_NOTFOUND, "%s: the archive folder given is not there: %s",
				       given, strerror(errno));
	} else {
		int r = archive_root_of(transcript, base);
		if (r != 0)
			return r;
	}
	if (snprintf(out, PATH_MAX, "%s%s%s", base, rest[0] != '\0' && strcmp(base, "/") != 0 ? "/" : "",
		     rest) >= PATH_MAX)
		return cer_err(CER_E_INPUT, "%s: recorded path too long", transcript);
	/* Never out of the archive through a symlinked folder, nor a symlink as the file. */
	if (folder_of(out, folder, &name) != 0)
		return cer_err(CER_E_INPUT, "%s: recorded path too long", transcript);
	if ((realpath(folder, real) != NULL && !inside(base, real)) ||
	    (lstat(out, &st) == 0 && S_ISLNK(st.st_mode)))
		return cer_err(CER_E_REFUSED,
			       "%s: recorded path %s leads out of the archive through a symbolic "
			       "link; not followed",
			       transcript, recorded);
	return 0;
}

int archive_resolve_entry(const struct archive_view *view, const char *transcript, long line,
			  json_t *entry, char out[PATH_MAX])
{
	const char *p = json_string_value(json_object_get(entry, "path"));

	if (p == NULL)
		return cer_err(CER_E_VERIFY, "%s: a recorded file has no path", transcript);
	return archive_resolve(view, transcript, line, p,
			       json_is_true(json_object_get(entry, "outside_archive")), out);
}

int archive_view_add_folder(struct archive_view *view, char *arg)
{
	char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg || eq[1] == '\0')
		return cer_err(CER_E_USAGE, "--folder %s: give NAME=DIR (e.g. out=/copy/out)", arg);
	*eq = '\0';
	if (!archive_path_valid(arg) || strchr(arg, '/') != NULL) {
		*eq = '=';
		return cer_err(CER_E_USAGE,
			       "--folder %s: NAME is one folder name of the archive (out, media, ...)",
			       arg);
	}
	if (view->n_folders == ARCHIVE_FOLDERS_MAX)
		return cer_err(CER_E_USAGE, "more than %d --folder options", ARCHIVE_FOLDERS_MAX);
	view->folders[view->n_folders].name = arg;
	view->folders[view->n_folders].dir = eq + 1;
	view->n_folders++;
	return 0;
}

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/media.h"
#include "ceremony/sizes.h"

#define MEDIA_MAX_DEPTH 16

static int media_add(struct media_manifest *m, const char *rel, const uint8_t sha[SHA256_LEN])
{
	struct media_file *grown;

	if (m->n == MEDIA_MAX_FILES)
		return cer_err(CER_E_INPUT, "more than %d files on the medium", MEDIA_MAX_FILES);
	grown = realloc(m->files, (m->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	m->files = grown;
	m->files[m->n].path = strdup(rel);
	if (m->files[m->n].path == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	memcpy(m->files[m->n].sha256, sha, SHA256_LEN);
	m->n++;
	return 0;
}

/* Exactly the medium's own MANIFEST.sha256 and its .sig at the top: never by prefix, or a
 * file named MANIFEST.sha256.anything would escape the manifest. */
static int media_is_manifest(const char *rel)
{
	return strcmp(rel, MEDIA_MANIFEST_NAME) == 0 || strcmp(rel, MEDIA_MANIFEST_NAME ".sig") == 0;
}

static int media_walk(struct media_manifest *m, const char *root, const char *rel, int depth)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (depth > MEDIA_MAX_DEPTH)
		return cer_err(CER_E_INPUT, "%s/%s: folders nested too deeply", root, rel);
	if (snprintf(dir, sizeof(dir), "%s%s%s", root, rel[0] ? "/" : "", rel) >= (int)sizeof(dir))
		return cer_err(CER_E_INPUT, "%s: path too long", rel);
	d = opendir(dir);
	if (d == NULL)
		return cer_err(CER_E_IO, "%s: cannot read the medium: %s", dir, strerror(errno));
	while (r == 0 && (de = readdir(d)) != NULL) {
		char full[PATH_MAX], sub[PATH_MAX];
		struct stat st;
		uint8_t sha[SHA256_LEN];

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) >=
			    (int)sizeof(sub) ||
		    snprintf(full, sizeof(full), "%s/%s", root, sub) >= (int)sizeof(full)) {
			r = cer_err(CER_E_INPUT, "%s: path too long", de->d_name);
			break;
		}
		if (lstat(full, &st) != 0) {
			r = cer_err(CER_E_IO, "%s: %s", full, strerror(errno));
			break;
		}
		if (S_ISDIR(st.st_mode))
			r = media_walk(m, root, sub, depth + 1);
		else if (S_ISREG(st.st_mode)) {
			if (media_is_manifest(sub))
				continue; /* the manifest does not list itself */
			if ((r = file_sha256(full, sha)) == 0)
				r = media_add(m, sub, sha);
		} else
			r = cer_err(CER_E_REFUSED, "%s: neither a file nor a folder (links are not "
						   "followed on media)",
				    full);
	}
	closedir(d);
	return r;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct media_file *)a)->path, ((const struct media_file *)b)->path);
}

int media_scan(const char *dir, struct media_manifest **out)
{
	struct media_manifest *m = calloc(1, sizeof(*m));
	int r;

	*out = NULL;
	if (m == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if ((r = media_walk(m, dir, "", 0)) != 0) {
		media_manifest_free(m);
		return r;
	}
	qsort(m->files, m->n, sizeof(m->files[0]), by_path);
	*out = m;
	return 0;
}

void media_manifest_free(struct media_manifest *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->files[i].path);
	free(m->files);
	free(m);
}

json_t *media_manifest_json(const struct media_manifest *m)
{
	json_t *arr = json_array();
	char hex[SHA256_HEX_SIZE];

	for (size_t i = 0; arr != NULL && i < m->n; i++) {
		hex_encode(m->files[i].sha256, SHA256_LEN, hex);
		json_array_append_new(arr, json_pack("{s:s, s:s}", "path", m->files[i].path, "sha256",
						     hex));
	}
	return arr;
}

int media_manifest_from_json(json_t *files, struct media_manifest **out)
{
	struct media_manifest *m = calloc(1, sizeof(*m));
	json_t *f;
	size_t i;
	int r = 0;

	*out = NULL;
	if (m == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	json_array_foreach(files, i, f)
	{
		const char *p = json_string_value(json_object_get(f, "path"));
		const char *h = json_string_value(json_object_get(f, "sha256"));
		uint8_t sha[SHA256_LEN];
		if (p == NULL || h == NULL || hex_decode(h, strlen(h), sha, 32) != 0) {
			r = cer_err(CER_E_INPUT, "a recorded media manifest is malformed");
			break;
		}
		if ((r = media_add(m, p, sha)) != 0)
			break;
	}
	if (r != 0) {
		media_manifest_free(m);
		return r;
	}
	qsort(m->files, m->n, sizeof(m->files[0]), by_path);
	*out = m;
	return 0;
}

int media_written(const struct media_manifest *before, const struct media_manifest *after,
		  struct media_manifest **out)
{
	struct media_manifest *m = calloc(1, sizeof(*m));
	int r = 0;

	*out = NULL;
	if (m == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (size_t i = 0; i < after->n && r == 0; i++) {
		int same = 0;
		for (size_t j = 0; j < before->n && !same; j++)
			same = strcmp(after->files[i].path, before->files[j].path) == 0 &&
			       memcmp(after->files[i].sha256, before->files[j].sha256,
				      SHA256_LEN) == 0;
		if (!same)
			r = media_add(m, after->files[i].path, after->files[i].sha256);
	}
	if (r != 0) {
		media_manifest_free(m);
		return r;
	}
	*out = m;
	return 0;
}

int media_manifest_text(const struct media_manifest *m, uint8_t **buf, size_t *len)
{
	size_t size = 1, o = 0;
	char *text;

	for (size_t i = 0; i < m->n; i++)
		size += 64 + 2 + strlen(m->files[i].path) + 1;
	text = malloc(size);
	if (text == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (size_t i = 0; i < m->n; i++) {
		hex_encode(m->files[i].sha256, SHA256_LEN, text + o);
		o += 64;
		o += (size_t)snprintf(text + o, size - o, "  %s\n", m->files[i].path);
	}
	text[o] = '\0';
	*buf = (uint8_t *)text;
	*len = o;
	return 0;
}

/* backups: the backups the history made and which are superseded (see its header). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ceremony/backups.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/sizes.h"
#include "ceremony/transcript.h"

#define BACKUPS_MAX_TRANSCRIPTS 100000

struct load {
	struct backups *b;
	const char *path;
	/* blobs named by "supersedes", matched once all are read */
	size_t n_sup;
	struct {
		uint8_t sha256[SHA256_LEN];
		char id[BACKUPS_ID_MAX]; /* the superseded backup's id, "" if not recorded */
		char by[BACKUPS_ID_MAX];
	} *sup;
};

static int copy_str(char *dst, size_t size, const char *src, const char *what)
{
	size_t len = src != NULL ? strlen(src) : 0;
	if (src == NULL || len >= size)
		return cer_err(CER_E_INPUT, "backup record: %s missing or too long", what);
	memcpy(dst, src, len + 1);
	return 0;
}

static int file_entry(const char *transcript, json_t *e, char *path, size_t size,
		      uint8_t sha256[SHA256_LEN])
{
	const char *p = json_string_value(json_object_get(e, "path"));
	const char *h = json_string_value(json_object_get(e, "sha256"));

	if (p == NULL || h == NULL || strlen(h) != 64 || hex_decode(h, 64, sha256, SHA256_LEN) != 0)
		return cer_err(CER_E_INPUT, "%s: a backup record names a file without path or hash",
			       transcript);
	if (json_is_true(json_object_get(e, "outside_archive"))) {
		path[0] = '\0'; /* outside the archive when recorded: known by its hash only */
		return 0;
	}
	return transcript_record_path(transcript, p, path, size);
}

static int on_record(void *arg, long line, json_t *rec)
{
	struct load *l = arg;
	const char *action = json_string_value(json_object_get(rec, "action"));
	json_t *details = json_object_get(rec, "details"), *outs = json_object_get(rec, "outputs");
	json_t *sup = json_object_get(details, "supersedes");
	struct backup_made *m, *grown;
	int r;

	(void)line;
	if (action == NULL ||
	    (strcmp(action, "backup.create") != 0 && strcmp(action, "backup.rekey") != 0))
		return 0;
	grown = realloc(l->b->made, (l->b->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	l->b->made = grown;
	m = &grown[l->b->n];
	memset(m, 0, sizeof(*m));
	m->seq = (long)json_integer_value(json_object_get(rec, "seq"));
	if ((r = copy_str(m->action, sizeof(m->action), action, "action")) != 0 ||
	    (r = copy_str(m->backup_id, sizeof(m->backup_id),
			  json_string_value(json_object_get(details, "backup_id")), "backup_id")) != 0 ||
	    (r = copy_str(m->transcript, sizeof(m->transcript), l->path, "transcript")) != 0)
		return r;
	/* backup.c records the blob first, then the internal record. */
	if (json_array_size(outs) < 1)
		return cer_err(CER_E_INPUT, "%s: %s %s records no blob", l->path, action, m->backup_id);
	if ((r = file_entry(l->path, json_array_get(outs, 0), m->blob, sizeof(m->blob),
			    m->blob_sha256)) != 0)
		return r;
	if (json_array_size(outs) >= 2) {
		if ((r = file_entry(l->path, json_array_get(outs, 1), m->internal,
				    sizeof(m->internal), m->internal_sha256)) != 0)
			return r;
		m->has_internal = 1;
	}
	l->b->n++;
	if (sup != NULL) {
		const char *h = json_string_value(json_object_get(json_object_get(sup, "blob"), "sha256"));
		void *g = realloc(l->sup, (l->n_sup + 1) * sizeof(*l->sup));
		if (g == NULL)
			return cer_err(CER_E_NOMEM, "out of memory");
		l->sup = g;
		if (h == NULL || strlen(h) != 64 ||
		    hex_decode(h, 64, l->sup[l->n_sup].sha256, SHA256_LEN) != 0)
			return cer_err(CER_E_INPUT, "%s: %s %s: supersedes names no blob hash", l->path,
				       action, m->backup_id);
		memcpy(l->sup[l->n_sup].by, m->backup_id, sizeof(m->backup_id));
		{
			const char *id = json_string_value(json_object_get(sup, "backup_id"));
			l->sup[l->n_sup].id[0] = '\0';
			if (id != NULL && strlen(id) < BACKUPS_ID_MAX)
				memcpy(l->sup[l->n_sup].id, id, strlen(id) + 1);
		}
		l->n_sup++;
	}
	return 0;
}

int backups_load(const char *dir, struct backups **out)
{
	struct load l;
	char **names = NULL, path[PATH_MAX];
	size_t n = 0;
	int r;

	*out = NULL;
	memset(&l, 0, sizeof(l));
	if ((l.b = calloc(1, sizeof(*l.b))) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if ((r = file_list_dir(dir, ".jsonl", BACKUPS_MAX_TRANSCRIPTS, &names, &n)) != 0)
		goto out;
	for (size_t i = 0; i < n && r == 0; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path)) {
			r = cer_err(CER_E_INPUT, "%s: path too long", dir);
			break;
		}
		l.path = path;
		r = transcript_each(path, on_record, &l);
	}
	for (size_t i = 0; i < l.n_sup && r == 0; i++)
		for (size_t j = 0; j < l.b->n; j++)
			/* By hash or by id: recovery refuses by id, so the kit must agree. */
			if (memcmp(l.b->made[j].blob_sha256, l.sup[i].sha256, SHA256_LEN) == 0 ||
			    (l.sup[i].id[0] != '\0' && strcmp(l.b->made[j].backup_id, l.sup[i].id) == 0)) {
				l.b->made[j].superseded = 1;
				memcpy(l.b->made[j].superseded_by, l.sup[i].by, BACKUPS_ID_MAX);
			}
out:
	file_names_free(names);
	free(l.sup);
	if (r != 0) {
		backups_free(l.b);
		return r;
	}
	*out = l.b;
	return 0;
}

void backups_free(struct backups *b)
{
	if (b == NULL)
		return;
	free(b->made);
	free(b);
}

const struct backup_made *backups_find_blob(const struct backups *b,
					    const uint8_t sha256[SHA256_LEN])
{
	for (size_t i = 0; i < b->n; i++)
		if (memcmp(b->made[i].blob_sha256, sha256, SHA256_LEN) == 0)
			return &b->made[i];
	return NULL;
}

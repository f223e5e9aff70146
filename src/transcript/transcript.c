#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "ceremony/archive.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"
#include "transcript_int.h"

struct transcript {
	char path[PATH_MAX];
	char archive[PATH_MAX]; /* real path of the CA's archive: the transcript folder's parent */
	char ceremony[128];
	char prev[SHA256_HEX_SIZE]; /* hex SHA-256 of the last line, or the first line's nonce */
	long next_seq;
	json_t *pending_begin; /* a new file's ceremony.begin details, written with the first record */
	int holding;           /* records wait in held until transcript_flush */
	char *held;
	size_t held_len, held_cap;
};

static int transcript_append_one(struct transcript *t, const char *action, json_t *inputs,
				 json_t *outputs, json_t *details, long *seq);

void transcript_sha256_hex(const uint8_t *data, size_t len, char out[SHA256_HEX_SIZE])
{
	uint8_t md[SHA256_LEN];
	unsigned int mdlen = 0;

	(void)EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, sizeof(md), out);
}

int transcript_dir_of(const char *path, char out[PATH_MAX])
{
	char copy[PATH_MAX];

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return cer_err(CER_E_INPUT, "transcript path too long");
	if (realpath(dirname(copy), out) == NULL)
		return cer_err(CER_E_IO, "%s: its folder does not exist: %s", path, strerror(errno));
	return 0;
}

int transcript_data_entry(const struct transcript *t, const char *path,
			  const uint8_t sha256[SHA256_LEN], json_t **out)
{
	return archive_data_entry(t->archive, path, sha256, out);
}

int transcript_file_entry(const struct transcript *t, const char *path, json_t **out)
{
	return archive_file_entry(t->archive, path, out);
}

int transcript_note_path(const struct transcript *t, const char *path, json_t *details,
			 const char *key)
{
	return archive_note_path(t->archive, path, details, key);
}

int transcript_files(const struct transcript *t, json_t **out, ...)
{
	json_t *arr = json_array(), *e = NULL;
	const char *path;
	va_list ap;
	int r = 0;

	*out = NULL;
	if (arr == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	va_start(ap, out);
	while (r == 0 && (path = va_arg(ap, const char *)) != NULL)
		if ((r = transcript_file_entry(t, path, &e)) == 0 && json_array_append_new(arr, e) != 0)
			r = cer_err(CER_E_NOMEM, "out of memory");
	va_end(ap);
	if (r != 0) {
		json_decref(arr);
		return r;
	}
	*out = arr;
	return 0;
}

static int transcript_scan_cb(void *arg, long line, json_t *rec)
{
	struct transcript *t = arg;
	const char *c = json_string_value(json_object_get(rec, "ceremony"));

	t->next_seq = line + 1;
	if (line == 1 && c != NULL && t->ceremony[0] == '\0')
		return text_copy(t->ceremony, sizeof(t->ceremony), "ceremony id", c);
	return 0;
}

static int previous_json(const struct transcript *t, const char *previous, json_t **out)
{
	char sig[PATH_MAX], head[SHA256_HEX_SIZE], fhex[SHA256_HEX_SIZE], shex[SHA256_HEX_SIZE];
	uint8_t fmd[SHA256_LEN], smd[SHA256_LEN];
	json_t *entry = NULL;
	int r;

	*out = NULL;
	if (previous == NULL) {
		*out = json_null();
		return 0;
	}
	if (snprintf(sig, sizeof(sig), "%s.sig", previous) >= (int)sizeof(sig))
		return cer_err(CER_E_INPUT, "%s: path too long", previous);
	if (!file_exists(sig))
		return cer_err(CER_E_REFUSED, "%s: the previous ceremony's transcript is not sealed",
			       previous);
	if ((r = transcript_last_hash(previous, head)) != 0 || (r = file_sha256(previous, fmd)) != 0 ||
	    (r = file_sha256(sig, smd)) != 0 || (r = transcript_file_entry(t, previous, &entry)) != 0)
		return r;
	hex_encode(fmd, sizeof(fmd), fhex);
	hex_encode(smd, sizeof(smd), shex);
	*out = json_pack("{s:O, s:s, s:s, s:s}", "path", json_object_get(entry, "path"), "sha256",
			 fhex, "seal_sha256", shex, "head", head);
	json_decref(entry);
	return *out == NULL ? cer_err(CER_E_NOMEM, "out of memory") : 0;
}

int transcript_open(const char *path, const char *ceremony_id, struct transcript **out)
{
	return transcript_open_after(path, ceremony_id, NULL, out);
}

int transcript_open_after(const char *path, const char *ceremony_id, const char *previous,
			  struct transcript **out)
{
	json_t *prev = NULL;
	struct transcript *t;
	char sig[PATH_MAX];
	uint8_t nonce[SHA256_LEN];
	int r;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if (snprintf(t->path, sizeof(t->path), "%s", path) >= (int)sizeof(t->path) ||
	    snprintf(sig, sizeof(sig), "%s.sig", path) >= (int)sizeof(sig)) {
		r = cer_err(CER_E_INPUT, "transcript path too long");
		goto fail;
	}
	if ((r = archive_root_of(path, t->archive)) != 0)
		goto fail;
	if (ceremony_id != NULL &&
	    snprintf(t->ceremony, sizeof(t->ceremony), "%s", ceremony_id) >= (int)sizeof(t->ceremony)) {
		r = cer_err(CER_E_INPUT, "ceremony id longer than %zu bytes", sizeof(t->ceremony) - 1);
		goto fail;
	}
	if (file_exists(sig)) {
		r = cer_err(CER_E_REFUSED,
			    "%s is sealed (%s exists); a sealed transcript is never appended to: "
			    "start a new one",
			    path, sig);
		goto fail;
	}
	t->next_seq = 1;
	if (file_exists(path)) {
		if ((r = transcript_each_last(path, transcript_scan_cb, t, t->prev)) != 0) {
			cer_err_prefix("refusing to append: ");
			goto fail;
		}
		if (ceremony_id != NULL && t->next_seq > 1) {
			/* keep the id the file already has */
		}
	}
	if (t->ceremony[0] == '\0') {
		uint8_t id[8];
		char hex[17];
		randombytes_buf(id, sizeof(id));
		hex_encode(id, sizeof(id), hex);
		/* "ceremony-" and 16 hex digits: far below its 128 bytes */
		if ((r = text_format(t->ceremony, sizeof(t->ceremony), "ceremony id", "ceremony-%s",
				     hex)) != 0)
			goto fail;
	}
	if (t->next_seq == 1) {
		randombytes_buf(nonce, sizeof(nonce));
		hex_encode(nonce, sizeof(nonce), t->prev);
		if ((r = previous_json(t, previous, &prev)) != 0)
			goto fail;
		/* Written with the first real record: a refused command leaves no file. */
		t->pending_begin = json_pack("{s:o, s:s}", "previous", prev, "tool",
					     "ceremony " CEREMONY_VERSION);
		if (t->pending_begin == NULL) {
			r = cer_err(CER_E_NOMEM, "out of memory");
			goto fail;
		}
	} else if (previous != NULL) {
		r = cer_err(CER_E_USAGE, "%s already exists: --previous only starts a new transcript",
			    path);
		goto fail;
	}
	*out = t;
	return 0;
fail:
	free(t);
	return r;
}

void transcript_close(struct transcript *t)
{
	if (t != NULL) {
		json_decref(t->pending_begin);
		free(t->held);
	}
	free(t);
}

const char *transcript_ceremony(const struct transcript *t)
{
	return t->ceremony;
}

static void rfc3339_now(char out[TIME_TEXT_SIZE])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	if (strftime(out, TIME_TEXT_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

long transcript_next_seq(const struct transcript *t)
{
	return t->next_seq + (t->pending_begin != NULL ? 1 : 0);
}

int transcript_append(struct transcript *t, const char *action, json_t *inputs, json_t *outputs,
		      json_t *details, long *seq)
{
	json_t *begin = t->pending_begin;
	int r;

	if (begin != NULL) {
		t->pending_begin = NULL;
		if ((r = transcript_append_one(t, "ceremony.begin", NULL, NULL, begin, NULL)) != 0) {
			json_decref(inputs);
			json_decref(outputs);
			json_decref(details);
			return r;
		}
	}
	return transcript_append_one(t, action, inputs, outputs, details, seq);
}

static int transcript_hold_line(struct transcript *t, const char *line, size_t len)
{
	if (t->held_len + len > t->held_cap) {
		size_t cap = t->held_cap == 0 ? 65536 : t->held_cap;
		char *grown;
		while (cap < t->held_len + len)
			cap *= 2;
		if ((grown = realloc(t->held, cap)) == NULL)
			return cer_err(CER_E_NOMEM, "out of memory");
		t->held = grown;
		t->held_cap = cap;
	}
	memcpy(t->held + t->held_len, line, len);
	t->held_len += len;
	return 0;
}

void transcript_hold(struct transcript *t)
{
	t->holding = 1;
}

int transcript_flush(struct transcript *t)
{
	int r;

	if (t->held_len == 0)
		return 0;
	r = file_append_lines_sync(t->path, t->held, t->held_len);
	t->held_len = 0;
	return r;
}

static int transcript_append_one(struct transcript *t, const char *action, json_t *inputs,
				 json_t *outputs, json_t *details, long *seq)
{
	char when[TIME_TEXT_SIZE];
	json_t *rec = NULL;
	char *line = NULL;
	size_t len;
	int r;

	rfc3339_now(when);
	rec = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:s}", "seq", (json_int_t)t->next_seq,
			"time", when, "ceremony", t->ceremony, "action", action, "inputs",
			inputs != NULL ? inputs : json_array(), "outputs",
			outputs != NULL ? outputs : json_array(), "details",
			details != NULL ? details : json_object(), "prev", t->prev);
	inputs = outputs = details = NULL; /* stolen by json_pack, even on failure */
	if (rec == NULL) {
		r = cer_err(CER_E_NOMEM, "cannot build the transcript record");
		goto out;
	}
	line = json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (line == NULL) {
		r = cer_err(CER_E_NOMEM, "cannot encode the transcript record");
		goto out;
	}
	len = strlen(line);
	if (len + 1 > TRANSCRIPT_LINE_MAX) {
		r = cer_err(CER_E_INPUT, "transcript record too long");
		goto out;
	}
	line[len] = '\n';
	if (t->holding)
		r = transcript_hold_line(t, line, len + 1);
	else
		r = file_append_sync(t->path, line, len + 1);
	if (r != 0)
		goto out;
	transcript_sha256_hex((uint8_t *)line, len, t->prev);
	if (seq != NULL)
		*seq = t->next_seq;
	t->next_seq++;
	r = 0;
out:
	free(line);
	json_decref(rec);
	return r;
}

int transcript_record_path(const char *transcript, const char *recorded, char *out, size_t size)
{
	char full[PATH_MAX];
	int r;

	if ((r = archive_resolve(NULL, transcript, 0, recorded, 0, full)) != 0)
		return r;
	if (snprintf(out, size, "%s", full) >= (int)size)
		return cer_err(CER_E_INPUT, "%s: recorded path too long", transcript);
	return 0;
}

int transcript_begin_note(struct transcript *t, const char *key, json_t *value)
{
	if (t->pending_begin == NULL) {
		json_decref(value);
		return 0;
	}
	if (json_object_set_new(t->pending_begin, key, value) != 0)
		return cer_err(CER_E_NOMEM, "out of memory");
	return 0;
}

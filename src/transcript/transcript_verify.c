#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/sizes.h"
#include "ceremony/termsafe.h"
#include "ceremony/transcript.h"
#include "transcript_int.h"

static int is_hex64(const char *s)
{
	if (s == NULL || strlen(s) != 64)
		return 0;
	for (const char *p = s; *p != '\0'; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

/* Walk the lines of a transcript held in memory, checking seq and prev. */
static int transcript_walk(const char *path, const uint8_t *data, size_t len,
			   int (*fn)(void *arg, long line, json_t *rec), void *arg,
			   char last[SHA256_HEX_SIZE])
{
	char prev_hash[SHA256_HEX_SIZE] = "";
	size_t off = 0;
	long line = 0;
	int r = 0;

	if (len == 0)
		return cer_err(CER_E_INPUT, "%s: the transcript is empty", path);
	while (off < len) {
		const uint8_t *nl = memchr(data + off, '\n', len - off);
		size_t linelen;
		json_error_t jerr;
		json_t *rec;
		const char *prev;
		json_int_t seq;

		line++;
		if (nl == NULL)
			return cer_err(CER_E_INPUT,
				       "%s line %ld: incomplete (no newline at the end): a write was "
				       "cut short or bytes were appended",
				       path, line);
		linelen = (size_t)(nl - (data + off));
		if (linelen > TRANSCRIPT_LINE_MAX)
			return cer_err(CER_E_INPUT, "%s line %ld: longer than %d bytes", path, line,
				       TRANSCRIPT_LINE_MAX);
		rec = json_loadb((const char *)data + off, linelen, JSON_REJECT_DUPLICATES, &jerr);
		if (rec == NULL || !json_is_object(rec)) {
			json_decref(rec);
			return cer_err(CER_E_VERIFY, "%s line %ld: not a JSON record (%s)", path, line,
				       rec == NULL ? jerr.text : "not an object");
		}
		seq = json_integer_value(json_object_get(rec, "seq"));
		prev = json_string_value(json_object_get(rec, "prev"));
		if (!json_is_integer(json_object_get(rec, "seq")) || seq != line) {
			r = cer_err(CER_E_VERIFY,
				    "%s line %ld: seq is %lld, expected %ld (a line was removed, "
				    "inserted or reordered)",
				    path, line, (long long)seq, line);
		} else if (!is_hex64(prev)) {
			r = cer_err(CER_E_VERIFY, "%s line %ld: prev is not a SHA-256 hex value", path,
				    line);
		} else if (line > 1 && strcmp(prev, prev_hash) != 0) {
			r = cer_err(CER_E_VERIFY,
				    "%s line %ld: prev does not match the SHA-256 of line %ld (line "
				    "%ld was changed, or lines were removed or reordered)",
				    path, line, line - 1, line - 1);
		} else if (json_string_value(json_object_get(rec, "action")) == NULL ||
			   json_string_value(json_object_get(rec, "time")) == NULL) {
			r = cer_err(CER_E_VERIFY, "%s line %ld: record has no action or time", path,
				    line);
		} else if (fn != NULL) {
			r = fn(arg, line, rec);
		}
		json_decref(rec);
		if (r != 0)
			return r;
		transcript_sha256_hex(data + off, linelen, prev_hash);
		off += linelen + 1;
	}
	if (last != NULL)
		memcpy(last, prev_hash, 65);
	return 0;
}

int transcript_each(const char *path, int (*fn)(void *arg, long line, json_t *rec), void *arg)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if ((r = file_read_all(path, TRANSCRIPT_MAX_BYTES, &data, &len)) != 0)
		return r;
	r = transcript_walk(path, data, len, fn, arg, NULL);
	free(data);
	return r;
}

int transcript_each_records(const char *path, json_t *records,
			    int (*fn)(void *arg, long line, json_t *rec), void *arg)
{
	int r = 0;

	if (records == NULL)
		return transcript_each(path, fn, arg);
	/* Each record's seq is its line (the chain pass checked it). */
	for (size_t i = 0; r == 0 && i < json_array_size(records); i++)
		r = fn(arg, (long)i + 1, json_array_get(records, i));
	return r;
}

int transcript_each_data(const char *path, const uint8_t *data, size_t len,
			 int (*fn)(void *arg, long line, json_t *rec), void *arg)
{
	return transcript_walk(path, data, len, fn, arg, NULL);
}

int transcript_each_last(const char *path, int (*fn)(void *arg, long line, json_t *rec), void *arg,
			 char last[SHA256_HEX_SIZE])
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if ((r = file_read_all(path, TRANSCRIPT_MAX_BYTES, &data, &len)) != 0)
		return r;
	r = transcript_walk(path, data, len, fn, arg, last);
	free(data);
	return r;
}

int transcript_last_hash(const char *path, char out[SHA256_HEX_SIZE])
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if ((r = file_read_all(path, TRANSCRIPT_MAX_BYTES, &data, &len)) != 0)
		return r;
	r = transcript_walk(path, data, len, NULL, NULL, out);
	free(data);
	return r;
}

#define VERIFY_MAX_KEYS 64

struct verify_state {
	const char *path;
	const struct archive_view *view;
	FILE *out;
	struct transcript_report *rep;
	char *spki[VERIFY_MAX_KEYS];
	size_t n_spki;
	json_t *records; /* the first pass's records, for the second; NULL: parsed again */
};

/* Up to this size a transcript's records are parsed once and kept for the second
 * pass; a larger one is parsed twice rather than held as JSON (several times its size). */
#define VERIFY_KEEP_MAX_BYTES (16L * 1024 * 1024)

/* Inputs and outputs alike: a file still present must have the recorded SHA-256. */
static int verify_files(struct verify_state *st, long line, json_t *rec, const char *list)
{
	json_t *outputs = json_object_get(rec, list), *o;
	size_t i;

	if (outputs != NULL && !json_is_array(outputs))
		return cer_err(CER_E_VERIFY, "%s line %ld: %s is not a list", st->path, line, list);
	json_array_foreach(outputs, i, o)
	{
		const char *p = json_string_value(json_object_get(o, "path"));
		const char *want = json_string_value(json_object_get(o, "sha256"));
		char full[PATH_MAX], got[SHA256_HEX_SIZE];
		uint8_t md[SHA256_LEN];
		int r;

		if (p == NULL || !is_hex64(want))
			return cer_err(CER_E_VERIFY, "%s line %ld: %s entry %zu has no path or sha256",
				       st->path, line, list, i + 1);
		r = archive_resolve_entry(st->view, st->path, line, o, full);
		if (r == CER_E_REFUSED || r == CER_E_NOTFOUND) {
			/* a symlink out of this copy, or a file recorded outside the archive */
			cer_err_clear();
			st->rep->outputs_outside++;
			if (st->out != NULL) {
				fprintf(st->out, "  line %ld: %s ", line, list);
				term_put(st->out, p);
				fprintf(st->out, r == CER_E_REFUSED
							 ? " leads out of the archive (not followed)\n"
							 : " was outside the archive when recorded (not checked)\n");
			}
			continue;
		}
		if (r != 0)
			return r;
		if (!file_exists(full)) {
			st->rep->outputs_missing++;
			if (st->out != NULL) {
				fprintf(st->out, "  line %ld: %s ", line, list);
				term_put(st->out, p);
				fprintf(st->out, " not present (not checked)\n");
			}
			continue;
		}
		if ((r = file_sha256(full, md)) != 0) {
			cer_err_prefix("%s line %ld: %s: ", st->path, line, list);
			return r;
		}
		hex_encode(md, sizeof(md), got);
		if (strcmp(got, want) != 0)
			return cer_err(CER_E_VERIFY,
				       "%s line %ld: %s %s has changed since it was recorded "
				       "(sha256 %.16s..., recorded %.16s...)",
				       st->path, line, strcmp(list, "outputs") == 0 ? "output" : "input",
				       p, got, want);
		st->rep->outputs_checked++;
	}
	return 0;
}

/* Every path a record holds ("path" anywhere, a backup's "blob", a medium's "media") must
 * be relative to the archive (issue 10.7): checked by text, before the seal, so a hostile
 * or foreign transcript is refused by name whether or not it is sealed. */
static int paths_valid(struct verify_state *st, long line, json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;
	int r;

	if (json_is_object(v)) {
		json_object_foreach(v, k, x)
		{
			if (json_is_string(x) && (strcmp(k, "path") == 0 || strcmp(k, "blob") == 0 ||
						  strcmp(k, "media") == 0) &&
			    !archive_path_valid(json_string_value(x))) {
				return archive_resolve(NULL, st->path, line, json_string_value(x), 0,
						       NULL);
			}
			if ((r = paths_valid(st, line, x)) != 0)
				return r;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
		if ((r = paths_valid(st, line, x)) != 0)
			return r;
	}
	return 0;
}

/* First pass: the chain, and the keys the transcript records (for an unanchored seal). */
static int keys_cb(void *arg, long line, json_t *rec)
{
	struct verify_state *st = arg;
	int r;

	if ((r = paths_valid(st, line, rec)) != 0)
		return r;
	const char *spki = json_string_value(json_object_get(json_object_get(rec, "details"),
							     "spki_sha256"));

	st->rep->records = line;
	if (st->records != NULL && json_array_append(st->records, rec) != 0)
		return cer_err(CER_E_NOMEM, "out of memory");
	if (spki != NULL && is_hex64(spki) && st->n_spki < VERIFY_MAX_KEYS) {
		st->spki[st->n_spki] = strdup(spki);
		if (st->spki[st->n_spki] == NULL)
			return cer_err(CER_E_NOMEM, "out of memory");
		st->n_spki++;
	}
	/* A backup whose shares were sealed at the test Argon2id cost is no production backup. */
	if (json_is_true(json_object_get(json_object_get(json_object_get(rec, "details"),
							  "seal_cost"),
					 "test_cost")) &&
	    st->rep->test_cost_records++ == 0)
		st->rep->test_cost_line = line;
	return 0;
}

/* Second pass, after the seal: the files the records name. */
static int files_cb(void *arg, long line, json_t *rec)
{
	struct verify_state *st = arg;
	int r;

	if ((r = verify_files(st, line, rec, "inputs")) != 0 ||
	    (r = verify_files(st, line, rec, "outputs")) != 0)
		return r;
	if (st->out != NULL) {
		const char *a = json_string_value(json_object_get(rec, "action"));
		fprintf(st->out, "  line %ld: ", line);
		term_put(st->out, a);
		/* The annex itself is confidential and not here: say so, never pass over it. */
		if (a != NULL && strcmp(a, "annex.commit") == 0)
			fprintf(st->out, " ok (commits to a confidential annex, not checked here: its "
					 "SHA-256 and seal's are recorded for an auditor cleared for it)\n");
		else
			fprintf(st->out, " ok\n");
	}
	return 0;
}

int transcript_test_cost_check(const char *path, const struct transcript_report *rep,
			       const char *allowed_because, FILE *out)
{
	if (rep->test_cost_records == 0)
		return 0;
	if (allowed_because == NULL)
		return cer_err(CER_E_VERIFY,
			       "%s line %ld: a backup's shares were sealed at the TEST Argon2id cost "
			       "(not a production backup); give --allow-test-cost to accept a test "
			       "ceremony",
			       path, rep->test_cost_line);
	if (out != NULL)
		fprintf(out,
			"TEST COST: %ld backup record%s sealed at the test Argon2id cost (first at "
			"line %ld), accepted because of %s\n",
			rep->test_cost_records, rep->test_cost_records == 1 ? "" : "s",
			rep->test_cost_line, allowed_because);
	return 0;
}

int transcript_verify(const char *path, X509 *root, unsigned flags, FILE *out,
		      struct transcript_report *rep)
{
	return transcript_verify_view(path, NULL, root, flags, out, rep);
}

int transcript_verify_view(const char *path, const struct archive_view *view, X509 *root,
			   unsigned flags, FILE *out, struct transcript_report *rep)
{
	return transcript_verify_records(path, view, root, flags, out, rep, NULL);
}

/*
 * The chain (walked here, or already by transcript_read_walk: walked is then its kept
 * records and head its head), the seal over data, then the files the records name.
 */
static int verify_core(const char *path, const uint8_t *data, size_t len, json_t *walked,
		       const char *walked_head, const struct archive_view *view, X509 *root,
		       unsigned flags, FILE *out, struct transcript_report *rep, json_t **records)
{
	struct verify_state st;
	char dir[PATH_MAX], sig[PATH_MAX], head[SHA256_HEX_SIZE];
	int r;

	memset(rep, 0, sizeof(*rep));
	memset(&st, 0, sizeof(st));
	if (records != NULL)
		*records = NULL;
	if ((r = transcript_dir_of(path, dir)) != 0)
		return r;
	if (snprintf(sig, sizeof(sig), "%s.sig", path) >= (int)sizeof(sig))
		return cer_err(CER_E_INPUT, "transcript path too long");
	st.path = path;
	st.view = view;
	st.out = out;
	st.rep = rep;
	if (walked != NULL) {
		/* The first pass over the records already parsed (and chain-checked). */
		for (size_t i = 0; r == 0 && i < json_array_size(walked); i++)
			r = keys_cb(&st, (long)i + 1, json_array_get(walked, i));
		if (r != 0)
			goto out;
		st.records = json_incref(walked);
		memcpy(head, walked_head, sizeof(head));
	} else {
		if (len <= (size_t)VERIFY_KEEP_MAX_BYTES && (st.records = json_array()) == NULL) {
			r = cer_err(CER_E_NOMEM, "out of memory");
			goto out;
		}
		if ((r = transcript_walk(path, data, len, keys_cb, &st, head)) != 0)
			goto out;
	}
	if (hex_decode(head, 64, rep->head, sizeof(rep->head)) != 0) {
		r = cer_err(CER_E_INTERNAL, "bad head hash");
		goto out;
	}
	/* The seal before any path a record names is followed: an unsealed or forged
	 * transcript must not make the verifier open (or hash) files of its choosing. */
	if (!file_exists(sig)) {
		if (!(flags & TRANSCRIPT_ALLOW_UNSEALED)) {
			r = cer_err(CER_E_VERIFY,
				    "%s: not sealed (no %s); the chain alone does not prove who "
				    "wrote it",
				    path, sig);
			goto out;
		}
	} else {
		r = transcript_seal_verify(path, data, len, root, (const char *const *)st.spki,
					   st.n_spki, rep->signer, sizeof(rep->signer));
		if (r != 0)
			goto out;
		rep->sealed = 1;
		rep->anchored = root != NULL;
		if (root == NULL && !(flags & TRANSCRIPT_ALLOW_UNANCHORED)) {
			r = cer_err(CER_E_VERIFY,
				    "%s: unanchored: the seal verifies only against a key the "
				    "transcript itself records (%s), which anyone can make; give "
				    "--root root.pem (or --allow-unanchored to accept that)",
				    path, rep->signer);
			goto out;
		}
	}
	/* The same bytes the seal covers, as the first pass parsed them. */
	if (st.records == NULL)
		r = transcript_walk(path, data, len, files_cb, &st, NULL);
	for (size_t i = 0; r == 0 && i < json_array_size(st.records); i++)
		r = files_cb(&st, (long)i + 1, json_array_get(st.records, i));
	if (r == 0 && records != NULL)
		*records = json_incref(st.records);
out:
	json_decref(st.records);
	for (size_t i = 0; i < st.n_spki; i++)
		free(st.spki[i]);
	return r;
}

int transcript_verify_records(const char *path, const struct archive_view *view, X509 *root,
			      unsigned flags, FILE *out, struct transcript_report *rep,
			      json_t **records)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	memset(rep, 0, sizeof(*rep));
	if (records != NULL)
		*records = NULL;
	if ((r = file_read_all(path, TRANSCRIPT_MAX_BYTES, &data, &len)) != 0)
		return r;
	r = verify_core(path, data, len, NULL, NULL, view, root, flags, out, rep, records);
	free(data);
	return r;
}

int transcript_verify_read(const char *path, const struct transcript_read *t,
			   const struct archive_view *view, X509 *root, unsigned flags, FILE *out,
			   struct transcript_report *rep, json_t **records)
{
	return verify_core(path, t->data, t->len, t->records, t->head, view, root, flags, out,
			   rep, records);
}

struct keep_walk {
	int (*fn)(void *arg, long line, json_t *rec);
	void *arg;
	json_t *records;
};

static int keep_cb(void *arg, long line, json_t *rec)
{
	struct keep_walk *k = arg;

	if (k->records != NULL && json_array_append(k->records, rec) != 0)
		return cer_err(CER_E_NOMEM, "out of memory");
	return k->fn != NULL ? k->fn(k->arg, line, rec) : 0;
}

int transcript_read_walk(const char *path, int (*fn)(void *arg, long line, json_t *rec),
			 void *arg, struct transcript_read *t)
{
	struct keep_walk k = {fn, arg, NULL};
	int r;

	memset(t, 0, sizeof(*t));
	if ((r = file_read_all(path, TRANSCRIPT_MAX_BYTES, &t->data, &t->len)) != 0)
		return r;
	if (t->len <= (size_t)VERIFY_KEEP_MAX_BYTES && (k.records = json_array()) == NULL)
		r = cer_err(CER_E_NOMEM, "out of memory");
	else
		r = transcript_walk(path, t->data, t->len, keep_cb, &k, t->head);
	t->records = k.records;
	if (r != 0)
		transcript_read_free(t);
	return r;
}

void transcript_read_free(struct transcript_read *t)
{
	free(t->data);
	json_decref(t->records);
	memset(t, 0, sizeof(*t));
}

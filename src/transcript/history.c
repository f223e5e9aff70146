#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/history.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"
#include "history_int.h"

#define HISTORY_MAX_FILES 4096

/* splitmix64's finaliser: every input bit moves about half the output bits. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Eight bytes at a time, case folded: serials compare case-insensitively, and two
 * strings strcasecmp finds equal are equal once every byte has its 0x20 bit set. */
static uint32_t serial_hash(const char *hex)
{
	size_t n = strlen(hex);
	uint64_t h = n, w;

	for (size_t i = 0; i < n; i += 8) {
		w = 0;
		memcpy(&w, hex + i, n - i < 8 ? n - i : 8);
		h = mix64(h ^ (w | 0x2020202020202020ull));
	}
	return (uint32_t)h;
}

/* All its bytes, eight at a time: a digest is uniform, but keys that share their
 * first bytes (a test's, or ground on purpose) must not all land in one slot. */
static uint32_t spki_hash(const uint8_t spki[SHA256_LEN])
{
	uint64_t h = 0, w;

	for (size_t i = 0; i < SHA256_LEN; i += 8) {
		memcpy(&w, spki + i, 8);
		h = mix64(h ^ w);
	}
	return (uint32_t)h;
}

/* Slot of hex, or of the empty slot where it would go. */
static size_t serial_slot(const struct history *h, const char *hex)
{
	size_t mask = h->serial_cap - 1, i = serial_hash(hex) & mask;

	while (h->serial_slots[i] != 0 && strcasecmp(h->serials[h->serial_slots[i] - 1], hex) != 0)
		i = (i + 1) & mask;
	return i;
}

static size_t spki_slot(const struct history *h, const uint8_t spki[SHA256_LEN])
{
	size_t mask = h->spki_cap - 1, i = spki_hash(spki) & mask;

	while (h->spki_slots[i] != 0 &&
	       memcmp(h->spki[h->spki_slots[i] - 1], spki, SHA256_LEN) != 0)
		i = (i + 1) & mask;
	return i;
}

/* Make room for total entries: grow the table (and rehash) past half full. */
static int index_reserve(uint32_t **slots, size_t *cap, size_t total)
{
	size_t want = *cap == 0 ? 64 : *cap;
	uint32_t *fresh;

	if (total > UINT32_MAX / 2)
		return cer_err(CER_E_INPUT, "the history has more than %u entries", UINT32_MAX / 2);
	while (total * 2 > want)
		want *= 2;
	if (want == *cap)
		return 0;
	fresh = calloc(want, sizeof(*fresh));
	if (fresh == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	free(*slots);
	*slots = fresh;
	*cap = want;
	return 1; /* rehash needed */
}

int history_has_serial(const struct history *h, const char *hex)
{
	return h->serial_cap != 0 && h->serial_slots[serial_slot(h, hex)] != 0;
}

int history_has_spki(const struct history *h, const uint8_t spki[SHA256_LEN])
{
	return h->spki_cap != 0 && h->spki_slots[spki_slot(h, spki)] != 0;
}

/* Arrays of n entries hold 16, then the next power of two: grow at 0, 16, 32, ... */
static int grow(void **arr, size_t n, size_t elem)
{
	void *grown;

	if (n != 0 && (n < 16 || (n & (n - 1)) != 0))
		return 0;
	grown = realloc(*arr, (n == 0 ? 16 : n * 2) * elem);
	if (grown == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	*arr = grown;
	return 0;
}

int history_push_serial(struct history *h, const char *hex)
{
	int r;

	if (strlen(hex) >= HISTORY_SERIAL_HEX_MAX)
		return cer_err(CER_E_INPUT, "serial %.48s... is longer than 20 octets", hex);
	if ((r = grow((void **)&h->serials, h->n_serials, sizeof(*h->serials))) != 0)
		return r;
	memcpy(h->serials[h->n_serials++], hex, strlen(hex) + 1);
	return 0;
}

int history_push_spki(struct history *h, const uint8_t spki[SHA256_LEN])
{
	int r;

	if ((r = grow((void **)&h->spki, h->n_spki, sizeof(*h->spki))) != 0)
		return r;
	memcpy(h->spki[h->n_spki++], spki, SHA256_LEN);
	return 0;
}

int history_add_serial(struct history *h, const char *hex)
{
	int r;

	if (strlen(hex) >= HISTORY_SERIAL_HEX_MAX)
		return cer_err(CER_E_INPUT, "serial %.48s... is longer than 20 octets", hex);
	if (history_has_serial(h, hex))
		return 0;
	if ((r = index_reserve(&h->serial_slots, &h->serial_cap, h->n_serials + 1)) < 0)
		return r;
	if (r == 1)
		for (size_t i = 0; i < h->n_serials; i++)
			h->serial_slots[serial_slot(h, h->serials[i])] = (uint32_t)(i + 1);
	if ((r = grow((void **)&h->serials, h->n_serials, sizeof(*h->serials))) != 0)
		return r;
	memcpy(h->serials[h->n_serials], hex, strlen(hex) + 1);
	h->serial_slots[serial_slot(h, hex)] = (uint32_t)(h->n_serials + 1);
	h->n_serials++;
	return 0;
}

int history_add_spki(struct history *h, const uint8_t spki[SHA256_LEN])
{
	int r;

	if (history_has_spki(h, spki))
		return 0;
	if ((r = index_reserve(&h->spki_slots, &h->spki_cap, h->n_spki + 1)) < 0)
		return r;
	if (r == 1)
		for (size_t i = 0; i < h->n_spki; i++)
			h->spki_slots[spki_slot(h, h->spki[i])] = (uint32_t)(i + 1);
	if ((r = grow((void **)&h->spki, h->n_spki, sizeof(*h->spki))) != 0)
		return r;
	memcpy(h->spki[h->n_spki], spki, SHA256_LEN);
	h->spki_slots[spki_slot(h, spki)] = (uint32_t)(h->n_spki + 1);
	h->n_spki++;
	return 0;
}

const struct history_ca *history_find_ca(const struct history *h, const char *hex)
{
	for (size_t i = 0; i < h->n_ca; i++)
		if (strcasecmp(h->ca[i].serial, hex) == 0)
			return &h->ca[i];
	return NULL;
}

int history_add_ca_keyed(struct history *h, const char *hex, const unsigned char *subject_der,
			 size_t len, const struct lint_name_der *hashes)
{
	struct history_ca *grown;
	unsigned char *der = NULL;

	if (strlen(hex) >= HISTORY_SERIAL_HEX_MAX)
		return cer_err(CER_E_INPUT, "serial %.48s... is longer than 20 octets", hex);
	if (len > 0 && (der = malloc(len)) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if (h->n_ca == h->ca_cap) {
		size_t cap = h->ca_cap == 0 ? 16 : h->ca_cap * 2;
		if ((grown = realloc(h->ca, cap * sizeof(*grown))) == NULL) {
			free(der);
			return cer_err(CER_E_NOMEM, "out of memory");
		}
		h->ca = grown;
		h->ca_cap = cap;
	}
	memset(&h->ca[h->n_ca], 0, sizeof(*grown));
	memcpy(h->ca[h->n_ca].serial, hex, strlen(hex) + 1);
	if (len > 0)
		memcpy(der, subject_der, len);
	h->ca[h->n_ca].subject_der = der;
	h->ca[h->n_ca].subject_der_len = len;
	h->ca[h->n_ca].name = *hashes;
	h->ca[h->n_ca].name.der = der;
	h->ca[h->n_ca].name.len = len;
	h->n_ca++;
	return 0;
}

int history_add_ca(struct history *h, const char *hex, const unsigned char *subject_der,
		   size_t len)
{
	struct lint_name_der d;

	memset(&d, 0, sizeof(d));
	d.der = subject_der;
	d.len = len;
	lint_name_der_hash(&d);
	return history_add_ca_keyed(h, hex, subject_der, len, &d);
}

/* details.certificate of a CA: its serial and subject DER (hex) into h->ca. */
static int history_ca_record(struct history *h, json_t *cert)
{
	const char *serial = json_string_value(json_object_get(cert, "serial"));
	const char *der_hex = json_string_value(json_object_get(cert, "subject_der"));
	size_t hex_len = der_hex != NULL ? strlen(der_hex) : 0;
	unsigned char *der = NULL;
	int r;

	if (serial == NULL)
		return 0;
	if (hex_len % 2 != 0 || hex_len > 2 * 4096)
		return cer_err(CER_E_INPUT, "a certificate record's subject_der is malformed");
	if (hex_len > 0 && (der = malloc(hex_len / 2)) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if (hex_len > 0 && hex_decode(der_hex, hex_len, der, hex_len / 2) != 0) {
		free(der);
		return cer_err(CER_E_INPUT, "a certificate record's subject_der is not hex");
	}
	r = history_add_ca(h, serial, der, hex_len / 2);
	free(der);
	return r;
}

/* RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" (older records: seconds since the epoch). */
static int history_time(json_t *t, long long *out)
{
	const char *s = json_string_value(t);
	struct tm tm;
	char *end;

	if (json_is_integer(t)) {
		*out = (long long)json_integer_value(t);
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL || *end != '\0')
		return -1;
	*out = (long long)timegm(&tm);
	return 0;
}

int history_add_revoked(struct history *h, const char *serial, const char *reason,
			long long when)
{
	struct history_revocation *grown;

	if (strlen(serial) >= HISTORY_SERIAL_HEX_MAX)
		return cer_err(CER_E_INPUT, "a revocation record is malformed");
	for (size_t i = 0; i < h->n_revoked; i++)
		if (strcasecmp(h->revoked[i].serial, serial) == 0)
			return 0;
	grown = realloc(h->revoked, (h->n_revoked + 1) * sizeof(*grown));
	if (grown == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	h->revoked = grown;
	memset(&h->revoked[h->n_revoked], 0, sizeof(*grown));
	memcpy(h->revoked[h->n_revoked].serial, serial, strlen(serial) + 1);
	if (text_copy(h->revoked[h->n_revoked].reason, sizeof(grown->reason), "revocation reason",
		      reason != NULL ? reason : "unspecified") != 0)
		return cer_err(CER_E_INPUT,
			       "a revocation record is malformed: its reason \"%.40s\" "
			       "is longer than %zu bytes",
			       reason, sizeof(grown->reason) - 1);
	h->revoked[h->n_revoked].time = when;
	h->n_revoked++;
	return 0;
}

static int history_add_revocation(struct history *h, json_t *entry)
{
	const char *serial = json_string_value(json_object_get(entry, "serial"));
	const char *reason = json_string_value(json_object_get(entry, "reason"));
	long long when = 0;

	if (serial == NULL || history_time(json_object_get(entry, "time"), &when) != 0)
		return cer_err(CER_E_INPUT, "a revocation record is malformed");
	return history_add_revoked(h, serial, reason != NULL ? reason : "unspecified", when);
}

static int history_spki_hex(struct history *h, const char *hex)
{
	uint8_t md[SHA256_LEN];

	if (hex == NULL || strlen(hex) != 64 || hex_decode(hex, 64, md, SHA256_LEN) != 0)
		return 0;
	return history_add_spki(h, md);
}

/* One transcript being parsed: what it adds, and its facts for the quorum walk. */
struct history_parse {
	struct history *one;
	struct history_file *file;
};

/* The facts quorum_walk.c's first_time and marks would find: the first record's time
 * (a missing one is ""), the top-level actions it looks for (as audit reads them). */
static void history_facts(struct history_file *f, long line, json_t *rec, const char *action)
{
	if (line == 1) {
		const char *t = json_string_value(json_object_get(rec, "time"));
		if (t == NULL)
			t = "";
		if (strlen(t) >= sizeof(f->first_time))
			f->known = 0; /* the walk reads it itself, and says what is wrong */
		else
			memcpy(f->first_time, t, strlen(t) + 1);
	}
	if (action == NULL)
		return;
	if (strncmp(action, "quorum.", 7) == 0 || strcmp(action, "witness.register") == 0)
		f->marks |= HISTORY_MARK_QUORUM;
	else if (strcmp(action, "cert.root") == 0)
		f->marks |= HISTORY_MARK_ROOT;
	else if (strcmp(action, "ceremony.abandoned") == 0)
		f->marks |= HISTORY_MARK_ABANDONED;
}

static int history_record(void *arg, long line, json_t *rec)
{
	struct history_parse *p = arg;
	struct history *h = p->one;
	const char *action = json_string_value(json_object_get(rec, "action"));
	json_t *d = json_object_get(rec, "details"), *cert = json_object_get(d, "certificate");
	json_t *revoked, *e;
	size_t i;
	int r;

	history_facts(p->file, line, rec, action);
	if (action == NULL)
		return 0;
	if (strcmp(action, "key.generate") == 0)
		return history_spki_hex(h, json_string_value(json_object_get(d, "spki_sha256")));
	if (strcmp(action, "cert.root") == 0 || strcmp(action, "cert.issue") == 0 ||
	    strcmp(action, "cert.signer") == 0) {
		const char *serial = json_string_value(json_object_get(cert, "serial"));
		const char *kind = json_string_value(json_object_get(d, "profile_kind"));
		if (serial != NULL && (r = history_add_serial(h, serial)) != 0)
			return r;
		if ((strcmp(action, "cert.root") == 0 || (kind != NULL && strcmp(kind, "ca") == 0)) &&
		    (r = history_ca_record(h, cert)) != 0)
			return r;
		return history_spki_hex(h, json_string_value(json_object_get(cert, "spki_sha256")));
	}
	if (strcmp(action, "cert.cross") == 0) { /* an existing root's key: its serial only */
		const char *serial = json_string_value(json_object_get(cert, "serial"));
		return serial != NULL ? history_add_serial(h, serial) : 0;
	}
	if (strcmp(action, "crl.sign") == 0) {
		json_int_t n = json_integer_value(json_object_get(d, "crl_number"));
		if (n > h->max_crl_number)
			h->max_crl_number = n;
		revoked = json_object_get(d, "revoked");
		json_array_foreach(revoked, i, e)
		{
			if ((r = history_add_revocation(h, e)) != 0)
				return r;
		}
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct history_file *)a)->name, ((const struct history_file *)b)->name);
}

/* What grow() has allocated for n entries: 16, then the next power of two. */
static size_t grown_cap(size_t n)
{
	size_t cap = 16;

	if (n == 0)
		return 0;
	while (cap < n)
		cap *= 2;
	return cap;
}

/* Grow an array of n entries to hold n + extra at once (keeping grow()'s sizes). */
static int grow_by(void **arr, size_t n, size_t extra, size_t elem)
{
	size_t want = grown_cap(n + extra);
	void *grown;

	if (want <= grown_cap(n))
		return 0;
	if ((grown = realloc(*arr, want * elem)) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	*arr = grown;
	return 0;
}

static int merge_serials(struct history *h, const struct history *one)
{
	int r;

	if ((r = index_reserve(&h->serial_slots, &h->serial_cap,
			       h->n_serials + one->n_serials)) < 0)
		return r;
	if (r == 1)
		for (size_t i = 0; i < h->n_serials; i++)
			h->serial_slots[serial_slot(h, h->serials[i])] = (uint32_t)(i + 1);
	if ((r = grow_by((void **)&h->serials, h->n_serials, one->n_serials,
			 sizeof(*h->serials))) != 0)
		return r;
	for (size_t i = 0; i < one->n_serials; i++) {
		size_t slot = serial_slot(h, one->serials[i]);
		if (h->serial_slots[slot] != 0)
			continue; /* already there */
		memcpy(h->serials[h->n_serials], one->serials[i], sizeof(*h->serials));
		h->serial_slots[slot] = (uint32_t)(++h->n_serials);
	}
	return 0;
}

static int merge_spki(struct history *h, const struct history *one)
{
	int r;

	if ((r = index_reserve(&h->spki_slots, &h->spki_cap, h->n_spki + one->n_spki)) < 0)
		return r;
	if (r == 1)
		for (size_t i = 0; i < h->n_spki; i++)
			h->spki_slots[spki_slot(h, h->spki[i])] = (uint32_t)(i + 1);
	if ((r = grow_by((void **)&h->spki, h->n_spki, one->n_spki, sizeof(*h->spki))) != 0)
		return r;
	for (size_t i = 0; i < one->n_spki; i++) {
		size_t slot = spki_slot(h, one->spki[i]);
		if (h->spki_slots[slot] != 0)
			continue;
		memcpy(h->spki[h->n_spki], one->spki[i], SHA256_LEN);
		h->spki_slots[slot] = (uint32_t)(++h->n_spki);
	}
	return 0;
}

/* one's CAs moved (not copied) to the end of h's: one is freed after its merge. */
static int merge_cas(struct history *h, struct history *one)
{
	if (h->n_ca + one->n_ca > h->ca_cap) {
		size_t cap = h->ca_cap == 0 ? 16 : h->ca_cap;
		struct history_ca *grown;
		while (cap < h->n_ca + one->n_ca)
			cap *= 2;
		if ((grown = realloc(h->ca, cap * sizeof(*grown))) == NULL)
			return cer_err(CER_E_NOMEM, "out of memory");
		h->ca = grown;
		h->ca_cap = cap;
	}
	if (one->n_ca > 0)
		memcpy(&h->ca[h->n_ca], one->ca, one->n_ca * sizeof(*one->ca));
	h->n_ca += one->n_ca;
	one->n_ca = 0; /* their subjects belong to h now */
	return 0;
}

/* Everything one transcript adds, merged into h in order (adds are idempotent): the
 * tables sized once for all of it, one probe per entry; one is left empty of CAs. */
static int history_merge(struct history *h, struct history *one)
{
	int r;

	if ((r = merge_serials(h, one)) != 0 || (r = merge_spki(h, one)) != 0 ||
	    (r = merge_cas(h, one)) != 0)
		return r;
	if (one->max_crl_number > h->max_crl_number)
		h->max_crl_number = one->max_crl_number;
	for (size_t i = 0; i < one->n_revoked; i++)
		if ((r = history_add_revoked(h, one->revoked[i].serial, one->revoked[i].reason,
					     one->revoked[i].time)) != 0)
			return r;
	return 0;
}

/* A reused read buffer: one allocation per thread for the whole history, not one per file. */
struct read_buf {
	uint8_t *data;
	size_t cap;
};

/* One transcript, read and hashed once: what it adds into *out (a history of its own,
 * merged later in order), from the index if its bytes are known, else parsed. Its
 * facts for the quorum walk into f. */
static int history_one(const char *path, struct read_buf *rb, struct history_file *f,
		       struct history **out)
{
	struct history *one = calloc(1, sizeof(*one));
	struct history_parse parse;
	uint8_t md[SHA256_LEN];
	size_t len = 0;
	char sig[PATH_MAX];
	int r, idx;

	*out = NULL;
	f->sealed = snprintf(sig, sizeof(sig), "%s.sig", path) < (int)sizeof(sig) && file_exists(sig);
	if (one == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if ((r = file_read_reuse(path, TRANSCRIPT_MAX_BYTES, &rb->data, &rb->cap, &len)) != 0)
		goto out;
	if (EVP_Digest(rb->data, len, md, NULL, EVP_sha256(), NULL) != 1) {
		r = cer_err_ssl(CER_E_CRYPTO, "%s: cannot hash", path);
		goto out;
	}
	if ((idx = history_index_read(md, one, f)) != 0) {
		history_free(one);
		if ((one = calloc(1, sizeof(*one))) == NULL) {
			r = cer_err(CER_E_NOMEM, "out of memory");
			goto out;
		}
		f->known = 1;
		f->first_time[0] = '\0';
		f->marks = 0;
		parse.one = one;
		parse.file = f;
		if ((r = transcript_each_data(path, rb->data, len, history_record, &parse)) != 0)
			goto out;
		if (f->sealed) /* a sealed transcript never changes: worth an entry */
			history_index_write(md, one, f, idx == HISTORY_INDEX_DAMAGED);
	}
	*out = one;
	one = NULL;
	r = 0;
out:
	history_free(one);
	return r;
}

/* The transcripts are shared between two threads (each file is its own; the hashing
 * is most of a call's cost beside a large history). The calling thread also merges,
 * in name order, each transcript as soon as it and all before it are done. */
struct load_job {
	const char *dir;
	struct history_file *files;
	size_t n;
	atomic_size_t next;
	atomic_int *done; /* set (release) once ones[i], rs[i] and msgs[i] are written */
	struct history **ones;
	int *rs;
	char (*msgs)[CER_ERR_DETAIL_SIZE];
};

static void load_one(struct load_job *j, size_t i, struct read_buf *rb)
{
	char path[PATH_MAX];

	cer_err_clear();
	if (snprintf(path, sizeof(path), "%s/%s", j->dir, j->files[i].name) >= (int)sizeof(path))
		j->rs[i] = cer_err(CER_E_INPUT, "%s: path too long", j->dir);
	else
		j->rs[i] = history_one(path, rb, &j->files[i], &j->ones[i]);
	if (j->rs[i] != 0 &&
	    text_copy(j->msgs[i], sizeof(j->msgs[i]), "message", cer_err_msg(j->rs[i])) != 0)
		j->msgs[i][0] = '\0';
	ERR_clear_error();
	atomic_store_explicit(&j->done[i], 1, memory_order_release);
}

static void *load_worker(void *arg)
{
	struct load_job *j = arg;
	struct read_buf rb = {NULL, 0};
	size_t i;

	while ((i = atomic_fetch_add(&j->next, 1)) < j->n)
		load_one(j, i, &rb);
	free(rb.data);
	return NULL;
}

/* Merge, in name order, every transcript done and not merged yet. The first fault (by
 * name) is the one reported. */
static int merge_ready(struct history *h, struct load_job *j, size_t *merged)
{
	int r;

	while (*merged < j->n && atomic_load_explicit(&j->done[*merged], memory_order_acquire)) {
		size_t i = (*merged)++;
		if (j->rs[i] != 0) {
			r = cer_err(j->rs[i], "%s", j->msgs[i]);
			cer_err_prefix("the CA's history is not intact: ");
			return r;
		}
		r = history_merge(h, j->ones[i]);
		history_free(j->ones[i]);
		j->ones[i] = NULL;
		if (r != 0)
			return r;
	}
	return 0;
}

static int history_read_all(struct history *h, const char *dir)
{
	struct load_job j;
	struct read_buf rb = {NULL, 0};
	pthread_t th;
	size_t i, merged = 0;
	int r = 0, threaded;

	memset(&j, 0, sizeof(j));
	j.dir = dir;
	j.files = h->files;
	j.n = h->n_transcripts;
	atomic_store(&j.next, 0);
	j.done = calloc(j.n + 1, sizeof(*j.done));
	j.ones = calloc(j.n + 1, sizeof(*j.ones));
	j.rs = calloc(j.n + 1, sizeof(*j.rs));
	j.msgs = calloc(j.n + 1, sizeof(*j.msgs));
	if (j.done == NULL || j.ones == NULL || j.rs == NULL || j.msgs == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < j.n; i++)
		atomic_init(&j.done[i], 0);
	threaded = j.n > 1 && sysconf(_SC_NPROCESSORS_ONLN) > 1 &&
		   pthread_create(&th, NULL, load_worker, &j) == 0;
	while (r == 0 && (i = atomic_fetch_add(&j.next, 1)) < j.n) {
		load_one(&j, i, &rb);
		r = merge_ready(h, &j, &merged);
	}
	atomic_store(&j.next, j.n); /* after a fault: the other thread takes no more */
	free(rb.data);
	if (threaded && pthread_join(th, NULL) != 0 && r == 0)
		r = cer_err(CER_E_INTERNAL, "cannot join the thread that read the history");
	if (r == 0)
		r = merge_ready(h, &j, &merged);
	if (r == 0 && merged != j.n)
		r = cer_err(CER_E_INTERNAL, "%zu of %zu transcripts were read", merged, j.n);
out:
	for (i = 0; j.ones != NULL && i < j.n; i++)
		history_free(j.ones[i]);
	free(j.done);
	free(j.ones);
	free(j.rs);
	free(j.msgs);
	return r;
}

/* The *.jsonl names of dir, sorted, into h->files (a missing dir: none). */
static int history_list(struct history *h, const char *dir, int *missing)
{
	DIR *d;
	struct dirent *de;
	int r = 0;

	*missing = 0;
	if ((h->files = calloc(HISTORY_MAX_FILES, sizeof(*h->files))) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT) {
			*missing = 1;
			return 0;
		}
		return cer_err(CER_E_IO, "%s: cannot read the transcripts folder: %s", dir,
			       strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len < 7 || strcmp(de->d_name + len - 6, ".jsonl") != 0)
			continue;
		if (h->n_transcripts == HISTORY_MAX_FILES) {
			r = cer_err(CER_E_INPUT, "%s: more than %d transcripts", dir,
				    HISTORY_MAX_FILES);
			break;
		}
		if ((h->files[h->n_transcripts].name = strdup(de->d_name)) == NULL) {
			r = cer_err(CER_E_NOMEM, "out of memory");
			break;
		}
		h->n_transcripts++;
	}
	closedir(d);
	qsort(h->files, h->n_transcripts, sizeof(*h->files), by_name);
	return r;
}

int history_load(const char *dir, struct history **out)
{
	struct history *h;
	int r, missing = 0;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if ((h->dir = strdup(dir)) == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = history_list(h, dir, &missing)) != 0 || missing)
		goto out;
	r = history_read_all(h, dir);
out:
	if (r != 0) {
		history_free(h);
		return r;
	}
	*out = h;
	return 0;
}

const struct history_file *history_file_find(const struct history *h, const char *name)
{
	size_t lo = 0, hi = h != NULL ? h->n_transcripts : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, h->files[mid].name);
		if (c == 0)
			return &h->files[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int history_load_beside(const char *transcript, const char *dir, struct history **out)
{
	char folder[PATH_MAX];
	const char *slash;

	if (dir != NULL)
		return history_load(dir, out);
	slash = strrchr(transcript, '/');
	if (slash == NULL)
		return history_load(".", out);
	if (snprintf(folder, sizeof(folder), "%.*s", (int)(slash - transcript), transcript) >=
	    (int)sizeof(folder))
		return cer_err(CER_E_INPUT, "%s: path too long", transcript);
	return history_load(folder[0] != '\0' ? folder : "/", out);
}

void history_free(struct history *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n_transcripts && h->files != NULL; i++)
		free(h->files[i].name);
	free(h->files);
	free(h->dir);
	free(h->serials);
	free(h->spki);
	free(h->revoked);
	free(h->serial_slots);
	free(h->spki_slots);
	for (size_t i = 0; i < h->n_ca; i++)
		free(h->ca[i].subject_der);
	free(h->ca);
	free(h);
}

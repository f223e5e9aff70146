/*
 * The history's index: what each sealed transcript adds (serials, keys, CA names
 * with their lint keys, revocations, the highest CRL number), cached by the
 * SHA-256 of the transcript's bytes in $XDG_CACHE_HOME/ceremony/history (else
 * ~/.cache/ceremony/history), one small binary file per transcript.
 *
 * Content-addressed: a transcript that changes has another hash and is parsed
 * again; nothing is written into the CA's folder. An entry ends with the SHA-256
 * of its own bytes and names the OpenSSL version that computed its name keys: a
 * torn, damaged or foreign entry is ignored (the transcript is parsed) and
 * replaced. The CA names' hashes are lint_name_der_hash's (X509_NAME_hash_ex).
 * Big-endian integers, read through bufread (STYLE 5):
 *
 *   "CERHIX05"  u32 OpenSSL_version_num()  transcript SHA-256 (32)
 *   u32 n, n x (u8 len, serial hex)
 *   u32 n, n x SPKI SHA-256 (32)
 *   u32 n, n x (u8 len, serial hex, u32 len, subject DER, u8 hashed, u8 has_cn,
 *               u32 subject hash, u32 CN hash)
 *   u32 n, n x (u8 len, serial hex, u8 len, reason, u32 time high, u32 time low)
 *   u32 max CRL number high, u32 low
 *   u8 known, u8 len, first record's time, u8 marks   (what the quorum walk needs:
 *       history_file; known 0: the walk reads the transcript itself)
 *   SHA-256 of every byte before (32)
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ceremony/bufread.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/sizes.h"
#include "ceremony/transcript.h"
#include "history_int.h"

#define INDEX_MAGIC "CERHIX05" /* 04: no quorum walk facts; 03: no cert.cross serials */
#define INDEX_DER_MAX 4096 /* as a certificate record's subject_der */

static int index_path(const uint8_t md[SHA256_LEN], char *out, size_t size, int dir_only)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char hex[SHA256_HEX_SIZE];
	int n;

	hex_encode(md, SHA256_LEN, hex);
	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(out, size, "%s/ceremony/history%s%s", xdg, dir_only ? "" : "/",
			     dir_only ? "" : hex);
	else if (home != NULL && home[0] == '/')
		n = snprintf(out, size, "%s/.cache/ceremony/history%s%s", home, dir_only ? "" : "/",
			     dir_only ? "" : hex);
	else
		return -1;
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* --- reading */

/* A u8 length, then that many bytes as a string shorter than size. */
static int get_str8(struct bufread *b, char *dst, size_t size)
{
	const uint8_t *p;
	uint8_t n;

	if (bufread_get_u8(b, &n) != 0 || (size_t)n >= size || bufread_get_bytes(b, n, &p) != 0 ||
	    memchr(p, '\0', n) != NULL)
		return -1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

static int get_i64(struct bufread *b, long long *v)
{
	uint32_t hi, lo;

	if (bufread_get_u32(b, &hi) != 0 || bufread_get_u32(b, &lo) != 0)
		return -1;
	*v = (long long)(((uint64_t)hi << 32) | lo);
	return 0;
}

/* A count of items each at least min bytes long: never more than the bytes left hold. */
static int get_count(struct bufread *b, size_t min, uint32_t *n)
{
	return bufread_get_u32(b, n) != 0 || (size_t)*n > bufread_remaining(b) / min ? -1 : 0;
}

static int parse_ca(struct bufread *b, struct history *one)
{
	char serial[HISTORY_SERIAL_HEX_MAX];
	struct lint_name_der d;
	const uint8_t *der;
	uint8_t hashed, has_cn;
	uint32_t subject_hash, cn_hash;
	size_t len;

	memset(&d, 0, sizeof(d));
	if (get_str8(b, serial, sizeof(serial)) != 0 ||
	    bufread_get_string(b, INDEX_DER_MAX, &der, &len) != 0)
		return -1;
	if (bufread_get_u8(b, &hashed) != 0 || bufread_get_u8(b, &has_cn) != 0 ||
	    bufread_get_u32(b, &subject_hash) != 0 || bufread_get_u32(b, &cn_hash) != 0 ||
	    hashed > 1 || has_cn > 1)
		return -1;
	d.hashed = hashed;
	d.has_cn = has_cn;
	d.subject_hash = subject_hash;
	d.cn_hash = cn_hash;
	return history_add_ca_keyed(one, serial, der, len, &d) != 0 ? -1 : 0;
}

/* The quorum walk's facts: known, the first record's time, the marks. */
static int parse_facts(struct bufread *b, struct history_file *f)
{
	uint8_t known, marks;

	if (bufread_get_u8(b, &known) != 0 || known > 1 ||
	    get_str8(b, f->first_time, sizeof(f->first_time)) != 0 ||
	    bufread_get_u8(b, &marks) != 0 ||
	    (marks & ~(HISTORY_MARK_QUORUM | HISTORY_MARK_ROOT | HISTORY_MARK_ABANDONED)) != 0)
		return -1;
	f->known = known;
	f->marks = marks;
	return 0;
}

static int index_parse(struct bufread *b, const uint8_t md[SHA256_LEN], struct history *one,
		       struct history_file *f)
{
	const uint8_t *magic, *want;
	char serial[HISTORY_SERIAL_HEX_MAX], reason[sizeof(((struct history_revocation *)0)->reason)];
	uint8_t spki[SHA256_LEN];
	uint32_t version, n;
	long long when;

	if (bufread_get_bytes(b, 8, &magic) != 0 || memcmp(magic, INDEX_MAGIC, 8) != 0 ||
	    bufread_get_u32(b, &version) != 0 || version != (uint32_t)OpenSSL_version_num() ||
	    bufread_get_bytes(b, SHA256_LEN, &want) != 0 || memcmp(want, md, SHA256_LEN) != 0)
		return -1;
	if (get_count(b, 1, &n) != 0)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (get_str8(b, serial, sizeof(serial)) != 0 || history_push_serial(one, serial) != 0)
			return -1;
	if (get_count(b, SHA256_LEN, &n) != 0)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (bufread_copy_bytes(b, spki, SHA256_LEN) != 0 || history_push_spki(one, spki) != 0)
			return -1;
	if (get_count(b, 15, &n) != 0)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (parse_ca(b, one) != 0)
			return -1;
	if (get_count(b, 10, &n) != 0)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (get_str8(b, serial, sizeof(serial)) != 0 || get_str8(b, reason, sizeof(reason)) != 0 ||
		    get_i64(b, &when) != 0 || history_add_revoked(one, serial, reason, when) != 0)
			return -1;
	if (get_i64(b, &one->max_crl_number) != 0 || parse_facts(b, f) != 0 || !bufread_at_end(b))
		return -1;
	return 0;
}

int history_index_read(const uint8_t md[SHA256_LEN], struct history *one,
		       struct history_file *facts)
{
	char path[PATH_MAX];
	uint8_t *data = NULL, self[SHA256_LEN];
	const uint8_t *body, *tail;
	struct bufread b;
	size_t len = 0;
	int r;

	if (index_path(md, path, sizeof(path), 0) != 0 || access(path, F_OK) != 0)
		return HISTORY_INDEX_ABSENT;
	r = HISTORY_INDEX_DAMAGED;
	if (file_read_all(path, TRANSCRIPT_MAX_BYTES, &data, &len) != 0 || len < SHA256_LEN)
		goto out;
	bufread_init(&b, data, len);
	if (bufread_get_bytes(&b, len - SHA256_LEN, &body) != 0 ||
	    bufread_get_bytes(&b, SHA256_LEN, &tail) != 0 ||
	    EVP_Digest(body, len - SHA256_LEN, self, NULL, EVP_sha256(), NULL) != 1 ||
	    CRYPTO_memcmp(self, tail, SHA256_LEN) != 0)
		goto out;
	bufread_init(&b, body, len - SHA256_LEN);
	if (index_parse(&b, md, one, facts) == 0)
		r = 0;
out:
	free(data);
	cer_err_clear();
	return r;
}

/* --- writing */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int failed;
};

static void put(struct wbuf *w, const void *src, size_t n)
{
	if (w->failed || n == 0) /* n == 0: src may be NULL (a CA without a recorded subject) */
		return;
	if (w->len + n > w->cap) {
		size_t cap = w->cap == 0 ? 4096 : w->cap;
		uint8_t *grown;
		while (cap < w->len + n)
			cap *= 2;
		if ((grown = realloc(w->p, cap)) == NULL) {
			w->failed = 1;
			return;
		}
		w->p = grown;
		w->cap = cap;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void put_u8(struct wbuf *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put_u32(struct wbuf *w, uint32_t v)
{
	uint8_t be[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	put(w, be, 4);
}

static void put_i64(struct wbuf *w, long long v)
{
	put_u32(w, (uint32_t)((uint64_t)v >> 32));
	put_u32(w, (uint32_t)(uint64_t)v);
}

static void put_str8(struct wbuf *w, const char *s)
{
	size_t n = strlen(s);

	if (n > 255) {
		w->failed = 1;
		return;
	}
	put_u8(w, (uint8_t)n);
	put(w, s, n);
}

static void index_build(struct wbuf *w, const uint8_t md[SHA256_LEN], const struct history *one,
			const struct history_file *f)
{
	uint8_t self[SHA256_LEN];

	put(w, INDEX_MAGIC, 8);
	put_u32(w, (uint32_t)OpenSSL_version_num());
	put(w, md, SHA256_LEN);
	put_u32(w, (uint32_t)one->n_serials);
	for (size_t i = 0; i < one->n_serials; i++)
		put_str8(w, one->serials[i]);
	put_u32(w, (uint32_t)one->n_spki);
	for (size_t i = 0; i < one->n_spki; i++)
		put(w, one->spki[i], SHA256_LEN);
	put_u32(w, (uint32_t)one->n_ca);
	for (size_t i = 0; i < one->n_ca; i++) {
		const struct history_ca *c = &one->ca[i];
		if (c->subject_der_len > INDEX_DER_MAX)
			w->failed = 1;
		put_str8(w, c->serial);
		put_u32(w, (uint32_t)c->subject_der_len);
		put(w, c->subject_der, c->subject_der_len);
		/* X509_NAME_hash_ex: 32 bits in an unsigned long */
		if (c->name.subject_hash > UINT32_MAX || c->name.cn_hash > UINT32_MAX)
			w->failed = 1;
		put_u8(w, c->name.hashed != 0);
		put_u8(w, c->name.has_cn != 0);
		put_u32(w, (uint32_t)c->name.subject_hash);
		put_u32(w, (uint32_t)c->name.cn_hash);
	}
	put_u32(w, (uint32_t)one->n_revoked);
	for (size_t i = 0; i < one->n_revoked; i++) {
		put_str8(w, one->revoked[i].serial);
		put_str8(w, one->revoked[i].reason);
		put_i64(w, one->revoked[i].time);
	}
	put_i64(w, one->max_crl_number);
	put_u8(w, f->known != 0);
	put_str8(w, f->known ? f->first_time : "");
	put_u8(w, (uint8_t)f->marks);
	if (!w->failed && EVP_Digest(w->p, w->len, self, NULL, EVP_sha256(), NULL) != 1)
		w->failed = 1;
	put(w, self, SHA256_LEN);
}

void history_index_write(const uint8_t md[SHA256_LEN], const struct history *one,
			 const struct history_file *facts, int replace)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct wbuf w = {NULL, 0, 0, 0};

	if (index_path(md, dir, sizeof(dir), 1) != 0 || index_path(md, path, sizeof(path), 0) != 0)
		return;
	index_build(&w, md, one, facts);
	if (!w.failed && file_mkdirs(dir, 0700) == 0) {
		if (replace)
			(void)unlink(path); /* a damaged entry: file_write_new never overwrites */
		/* Another process may write the same entry first: same bytes, either wins. */
		if (file_write_new(path, w.p, w.len) != 0)
			cer_err_clear();
	}
	free(w.p);
	cer_err_clear();
}

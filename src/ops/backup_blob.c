#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ceremony/backupblob.h"
#include "ceremony/bufread.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/sizes.h"

#define LABEL_KEK "ceremony backup KEK v1"
#define LABEL_SHARE "ceremony backup share v1"
#define LABEL_BLOB "ceremony backup blob v1"

uint8_t backupblob_key_type_code(enum key_type t)
{
	return key_type_info(t)->wire_code;
}

static int key_type_from_code(uint8_t code, enum key_type *t)
{
	return key_type_from_wire(code, t);
}

/* HMAC-SHA256(key, label || a || b), with the state wiped. */
static int hmac3(const uint8_t *key, size_t key_len, const char *label, const uint8_t *a,
		 size_t a_len, const uint8_t *b, size_t b_len, uint8_t out[static 32])
{
	crypto_auth_hmacsha256_state st;

	if (crypto_auth_hmacsha256_init(&st, key, key_len) != 0 ||
	    crypto_auth_hmacsha256_update(&st, (const uint8_t *)label, strlen(label)) != 0 ||
	    (a_len > 0 && crypto_auth_hmacsha256_update(&st, a, a_len) != 0) ||
	    (b_len > 0 && crypto_auth_hmacsha256_update(&st, b, b_len) != 0) ||
	    crypto_auth_hmacsha256_final(&st, out) != 0) {
		sodium_memzero(&st, sizeof(st));
		return cer_err(CER_E_CRYPTO, "HMAC-SHA256 failed");
	}
	sodium_memzero(&st, sizeof(st));
	return 0;
}

int backupblob_kek_commitment(const uint8_t kek[static KEK_LEN],
			      const uint8_t salt[static SHA256_LEN],
			      uint8_t out[static SHA256_LEN])
{
	return hmac3(kek, KEK_LEN, LABEL_KEK, salt, SHA256_LEN, NULL, 0, out);
}

int backupblob_share_commitment(const uint8_t salt[static SHA256_LEN],
				const uint8_t backup_id[static BACKUPBLOB_ID_LEN], uint8_t group_index,
				uint8_t member_index, const uint8_t *packed, size_t packed_len,
				uint8_t out[static SHA256_LEN])
{
	uint8_t head[BACKUPBLOB_ID_LEN + 2];

	memcpy(head, backup_id, BACKUPBLOB_ID_LEN);
	head[BACKUPBLOB_ID_LEN] = group_index;
	head[BACKUPBLOB_ID_LEN + 1] = member_index;
	return hmac3(salt, SHA256_LEN, LABEL_SHARE, head, sizeof(head), packed,
		     packed_len, out);
}

/* A bounded writer for encode: every put checks room first. */
struct writer {
	uint8_t *p;
	size_t len, cap;
	int bad;
};

static void put(struct writer *w, const void *d, size_t n)
{
	if (w->bad || n > w->cap - w->len) {
		w->bad = 1;
		return;
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void put_u8(struct writer *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put_u16(struct writer *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(w, b, 2);
}

static void put_u32(struct writer *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	put(w, b, 4);
}

static void put_str(struct writer *w, const void *d, size_t n)
{
	put_u32(w, (uint32_t)n);
	put(w, d, n);
}

int backupblob_encode(const struct backupblob *b, const uint8_t kek[static KEK_LEN],
		      uint8_t **out, size_t *len)
{
	struct writer w = {NULL, 0, BACKUPBLOB_MAX_BYTES, 0};
	uint8_t mac[SHA256_LEN], sum[SHA256_LEN];
	int r;

	*out = NULL;
	*len = 0;
	if (b->share_count == 0 || b->share_count > BACKUPBLOB_SHARES_MAX ||
	    b->spki_len > BACKUPBLOB_SPKI_MAX || b->wrapped_len == 0 ||
	    b->wrapped_len > BACKUPBLOB_WRAPPED_MAX || b->root_id_len == 0 ||
	    b->root_id_len > sizeof(b->root_id) || backupblob_key_type_code(b->key_type) == 0)
		return cer_err(CER_E_INTERNAL, "backup blob fields out of range");
	if ((w.p = malloc(w.cap)) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	put(&w, BACKUPBLOB_MAGIC, 8);
	put_u16(&w, BACKUPBLOB_VERSION);
	put(&w, b->backup_id, BACKUPBLOB_ID_LEN);
	put_u8(&w, backupblob_key_type_code(b->key_type));
	put_str(&w, b->root_label, strlen(b->root_label));
	put_str(&w, b->root_id, b->root_id_len);
	put_str(&w, b->spki, b->spki_len);
	put_str(&w, b->root_serial, strlen(b->root_serial));
	put_u32(&w, b->mechanism);
	put_u8(&w, b->kat);
	put(&w, b->salt, sizeof(b->salt));
	put(&w, b->kek_commitment, sizeof(b->kek_commitment));
	put_u16(&w, b->slip39_id);
	put_u16(&w, (uint16_t)b->share_count);
	for (size_t i = 0; i < b->share_count; i++) {
		put_u8(&w, b->shares[i].group_index);
		put_u8(&w, b->shares[i].member_index);
		put(&w, b->shares[i].commitment, SHA256_LEN);
	}
	put_str(&w, b->wrapped, b->wrapped_len);
	if (w.bad) {
		r = cer_err(CER_E_INTERNAL, "backup blob larger than %d bytes", BACKUPBLOB_MAX_BYTES);
		goto out;
	}
	if ((r = hmac3(kek, KEK_LEN, LABEL_BLOB, w.p, w.len, NULL, 0, mac)) != 0)
		goto out;
	put(&w, mac, sizeof(mac));
	crypto_hash_sha256(sum, w.p, w.len);
	put(&w, sum, sizeof(sum));
	if (w.bad) {
		r = cer_err(CER_E_INTERNAL, "backup blob larger than %d bytes", BACKUPBLOB_MAX_BYTES);
		goto out;
	}
	*out = w.p;
	*len = w.len;
	w.p = NULL;
	r = 0;
out:
	free(w.p);
	return r;
}

/* A length-prefixed text field into dst (no NUL inside), of lo..max bytes. */
static int get_text(struct bufread *br, size_t lo, size_t max, char *dst)
{
	const uint8_t *p;
	size_t n;
	int r;

	if ((r = bufread_get_string(br, max, &p, &n)) != 0)
		return r;
	if (n < lo || memchr(p, '\0', n) != NULL)
		return CER_E_INPUT;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

static int parse_fields(struct bufread *br, struct backupblob *out)
{
	const uint8_t *p;
	uint16_t version, count;
	uint8_t code;
	size_t n;

	if (bufread_get_bytes(br, 8, &p) != 0 || memcmp(p, BACKUPBLOB_MAGIC, 8) != 0)
		return cer_err(CER_E_INPUT, "not a ceremony backup blob");
	if (bufread_get_u16(br, &version) != 0 || version != BACKUPBLOB_VERSION)
		return cer_err(CER_E_INPUT, "backup blob version %u is not supported", version);
	if (bufread_copy_bytes(br, out->backup_id, BACKUPBLOB_ID_LEN) != 0 ||
	    bufread_get_u8(br, &code) != 0 || key_type_from_code(code, &out->key_type) != 0 ||
	    get_text(br, 1, P11KEY_LABEL_MAX, out->root_label) != 0 ||
	    bufread_get_string(br, sizeof(out->root_id), &p, &n) != 0 || n == 0)
		return cer_err(CER_E_INPUT, "damaged root key fields");
	memcpy(out->root_id, p, n);
	out->root_id_len = n;
	if (bufread_get_string(br, BACKUPBLOB_SPKI_MAX, &out->spki, &out->spki_len) != 0 ||
	    out->spki_len == 0 || get_text(br, 0, BACKUPBLOB_SERIAL_MAX, out->root_serial) != 0 ||
	    bufread_get_u32(br, &out->mechanism) != 0 || bufread_get_u8(br, &out->kat) != 0 ||
	    (out->kat != 1 && out->kat != 2) ||
	    bufread_copy_bytes(br, out->salt, sizeof(out->salt)) != 0 ||
	    bufread_copy_bytes(br, out->kek_commitment, sizeof(out->kek_commitment)) != 0 ||
	    bufread_get_u16(br, &out->slip39_id) != 0 || out->slip39_id > 0x7fff ||
	    bufread_get_u16(br, &count) != 0 || count == 0 || count > BACKUPBLOB_SHARES_MAX)
		return cer_err(CER_E_INPUT, "damaged header");
	out->share_count = count;
	for (size_t i = 0; i < count; i++) {
		struct backupblob_share *s = &out->shares[i];
		if (bufread_get_u8(br, &s->group_index) != 0 ||
		    bufread_get_u8(br, &s->member_index) != 0 || s->group_index > 15 ||
		    s->member_index > 15 || bufread_copy_bytes(br, s->commitment, 32) != 0)
			return cer_err(CER_E_INPUT, "damaged share commitment %zu", i + 1);
		for (size_t j = 0; j < i; j++)
			if (out->shares[j].group_index == s->group_index &&
			    out->shares[j].member_index == s->member_index)
				return cer_err(CER_E_INPUT, "share commitment %zu repeated", i + 1);
	}
	if (bufread_get_string(br, BACKUPBLOB_WRAPPED_MAX, &out->wrapped, &out->wrapped_len) != 0 ||
	    out->wrapped_len == 0)
		return cer_err(CER_E_INPUT, "damaged wrapped key");
	return 0;
}

int backupblob_parse(const uint8_t *buf, size_t len, const char *what, struct backupblob *out)
{
	struct bufread br;
	uint8_t sum[SHA256_LEN];
	const uint8_t *p;
	int r;

	memset(out, 0, sizeof(*out));
	/* The checksum first: a damaged byte anywhere is named as damage, not as a field. */
	if (len < 8 + 2 + 64 || len > BACKUPBLOB_MAX_BYTES)
		return cer_err(CER_E_INPUT, "%s: not a backup blob (%zu bytes)", what, len);
	crypto_hash_sha256(sum, buf, len - 32);
	if (sodium_memcmp(sum, buf + (len - 32), SHA256_LEN) != 0)
		return cer_err(CER_E_INPUT,
			       "%s: the backup blob is damaged (checksum mismatch)", what);
	bufread_init(&br, buf, len - 64);
	if ((r = parse_fields(&br, out)) != 0) {
		cer_err_prefix("%s: ", what);
		return r;
	}
	if (!bufread_at_end(&br))
		return cer_err(CER_E_INPUT, "%s: trailing bytes after the wrapped key", what);
	out->body = buf;
	out->body_len = len - 64;
	bufread_init(&br, buf + (len - 64), 32);
	if (bufread_get_bytes(&br, 32, &p) != 0)
		return cer_err(CER_E_INTERNAL, "%s: cannot read the MAC", what);
	memcpy(out->mac, p, SHA256_LEN);
	return 0;
}

int backupblob_load(const char *path, uint8_t **raw, size_t *raw_len, struct backupblob *out)
{
	int r;

	*raw = NULL;
	*raw_len = 0;
	if ((r = file_read_all(path, BACKUPBLOB_MAX_BYTES, raw, raw_len)) != 0)
		return r;
	if ((r = backupblob_parse(*raw, *raw_len, path, out)) != 0) {
		free(*raw);
		*raw = NULL;
	}
	return r;
}

int backupblob_check_kek(const struct backupblob *b, const uint8_t kek[static KEK_LEN])
{
	uint8_t c[SHA256_LEN], mac[SHA256_LEN];
	int r;

	if ((r = backupblob_kek_commitment(kek, b->salt, c)) != 0)
		return r;
	if (sodium_memcmp(c, b->kek_commitment, SHA256_LEN) != 0)
		return cer_err(CER_E_VERIFY, "the combined KEK does not match the blob's KEK "
					     "commitment; nothing was imported");
	if ((r = hmac3(kek, KEK_LEN, LABEL_BLOB, b->body, b->body_len, NULL, 0, mac)) != 0)
		return r;
	if (sodium_memcmp(mac, b->mac, SHA256_LEN) != 0)
		return cer_err(CER_E_VERIFY, "the blob's MAC does not verify under the KEK (the blob "
					     "was altered); nothing was imported");
	return 0;
}

int backupblob_check_share(const struct backupblob *b, uint8_t group_index, uint8_t member_index,
			   const uint8_t *packed, size_t packed_len)
{
	uint8_t c[SHA256_LEN];
	int r;

	for (size_t i = 0; i < b->share_count; i++) {
		if (b->shares[i].group_index != group_index ||
		    b->shares[i].member_index != member_index)
			continue;
		if ((r = backupblob_share_commitment(b->salt, b->backup_id, group_index,
						     member_index, packed, packed_len, c)) != 0)
			return r;
		if (sodium_memcmp(c, b->shares[i].commitment, SHA256_LEN) != 0)
			return cer_err(CER_E_VERIFY, "share %u-%u does not match its commitment",
				       group_index + 1, member_index + 1);
		return 0;
	}
	return cer_err(CER_E_NOTFOUND, "share %u-%u is not part of this backup", group_index + 1,
		       member_index + 1);
}

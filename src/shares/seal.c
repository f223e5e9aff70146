#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ceremony/bufread.h"
#include "ceremony/err.h"
#include "ceremony/seal.h"

_Static_assert(SEAL_OPSLIMIT_FLOOR == crypto_pwhash_argon2id_OPSLIMIT_MODERATE,
	       "production opslimit floor is libsodium's MODERATE");
_Static_assert(SEAL_MEMLIMIT_FLOOR == crypto_pwhash_argon2id_MEMLIMIT_MODERATE,
	       "production memlimit floor is libsodium's MODERATE");
_Static_assert(SEAL_OPSLIMIT_TEST_FLOOR == crypto_pwhash_argon2id_OPSLIMIT_MIN,
	       "test opslimit floor is libsodium's minimum");
_Static_assert(SEAL_MEMLIMIT_TEST_FLOOR == crypto_pwhash_argon2id_MEMLIMIT_MIN,
	       "test memlimit floor is libsodium's minimum");
_Static_assert(SEAL_MEMLIMIT_CAP == crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE,
	       "memlimit cap is libsodium's SENSITIVE");
_Static_assert(SEAL_SALT_LEN == crypto_pwhash_argon2id_SALTBYTES, "Argon2id salt size");
_Static_assert(SEAL_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce size");
_Static_assert(SEAL_TAG_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(SEAL_HEADER_LEN == SEAL_MAGIC_LEN + 2 + 4 + 4 + SEAL_SALT_LEN + SEAL_NONCE_LEN,
	       "header layout in seal.h");

#define SEAL_KEY_LEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES

/* A parsed blob: pointers into the caller's bytes, lengths checked. */
struct seal_parsed {
	struct seal_limits cost;
	const uint8_t *salt;
	const uint8_t *nonce;
	const uint8_t *meta;
	size_t meta_len;
	const uint8_t *ct;
	size_t ct_len;
	size_t ad_len; /* bytes before the ciphertext, all authenticated */
};

struct seal_limits seal_limits_production(void)
{
	struct seal_limits lim = {SEAL_OPSLIMIT_FLOOR, SEAL_MEMLIMIT_FLOOR, false};
	return lim;
}

struct seal_limits seal_limits_test(void)
{
	struct seal_limits lim = {SEAL_OPSLIMIT_TEST_FLOOR, SEAL_MEMLIMIT_TEST_FLOOR, true};
	return lim;
}

bool seal_limits_is_test(const struct seal_limits *lim)
{
	return lim->opslimit < SEAL_OPSLIMIT_FLOOR || lim->memlimit < SEAL_MEMLIMIT_FLOOR;
}

/* Is opslimit/memlimit within [floor, cap], with floor raised to at least `least`? */
static int seal_cost_check(const char *what, unsigned long long opslimit, size_t memlimit,
			   const struct seal_limits *least)
{
	bool test = least->test_limits_allowed;
	unsigned long long ops_floor = test ? SEAL_OPSLIMIT_TEST_FLOOR : SEAL_OPSLIMIT_FLOOR;
	size_t mem_floor = test ? SEAL_MEMLIMIT_TEST_FLOOR : SEAL_MEMLIMIT_FLOOR;
	const char *why = test ? "" : " (test limits not allowed)";

	if (least->opslimit > ops_floor)
		ops_floor = least->opslimit;
	if (least->memlimit > mem_floor)
		mem_floor = least->memlimit;
	if (opslimit < ops_floor)
		return cer_err(CER_E_REFUSED,
			       "%s: Argon2id opslimit %llu is below the floor of %llu%s", what,
			       opslimit, ops_floor, why);
	if (memlimit < mem_floor)
		return cer_err(CER_E_REFUSED,
			       "%s: Argon2id memlimit %zu KiB is below the floor of %zu KiB%s",
			       what, memlimit / 1024, mem_floor / 1024, why);
	if (opslimit > SEAL_OPSLIMIT_CAP)
		return cer_err(CER_E_REFUSED, "%s: Argon2id opslimit %llu is above the cap of %llu",
			       what, opslimit, SEAL_OPSLIMIT_CAP);
	if (memlimit > SEAL_MEMLIMIT_CAP)
		return cer_err(CER_E_REFUSED,
			       "%s: Argon2id memlimit %zu KiB is above the cap of %zu KiB", what,
			       memlimit / 1024, SEAL_MEMLIMIT_CAP / 1024);
	if (memlimit % 1024 != 0)
		return cer_err(CER_E_REFUSED,
			       "%s: Argon2id memlimit %zu is not a whole number of KiB", what,
			       memlimit);
	return 0;
}

/* Walk the blob through bufread; every field is checked here and nowhere else. */
static int seal_parse(const uint8_t *blob, size_t len, struct seal_parsed *p)
{
	struct bufread b;
	const uint8_t *magic;
	uint16_t version;
	uint32_t ops, mem_kib;
	int r = CER_E_INPUT;

	memset(p, 0, sizeof(*p));
	if (len > SEAL_BLOB_MAX) {
		r = cer_err(CER_E_INPUT, "%zu bytes is above the limit of %d", len, SEAL_BLOB_MAX);
		goto out;
	}
	bufread_init(&b, blob, len);
	if ((r = bufread_get_bytes(&b, SEAL_MAGIC_LEN, &magic)) != 0)
		goto out;
	if (memcmp(magic, SEAL_MAGIC, SEAL_MAGIC_LEN) != 0) {
		r = cer_err(CER_E_INPUT, "does not start with " SEAL_MAGIC);
		goto out;
	}
	if ((r = bufread_get_u16(&b, &version)) != 0)
		goto out;
	if (version != SEAL_VERSION) {
		r = cer_err(CER_E_INPUT, "version %u is not supported (this build reads %d)",
			    (unsigned)version, SEAL_VERSION);
		goto out;
	}
	if ((r = bufread_get_u32(&b, &ops)) != 0 || (r = bufread_get_u32(&b, &mem_kib)) != 0 ||
	    (r = bufread_get_bytes(&b, SEAL_SALT_LEN, &p->salt)) != 0 ||
	    (r = bufread_get_bytes(&b, SEAL_NONCE_LEN, &p->nonce)) != 0 ||
	    (r = bufread_get_string(&b, SEAL_META_MAX, &p->meta, &p->meta_len)) != 0)
		goto out;
	/* Everything before the ciphertext, its length included, is associated data. */
	p->ad_len = bufread_offset(&b) + 4;
	if ((r = bufread_get_string(&b, SEAL_SHARE_MAX + SEAL_TAG_LEN, &p->ct, &p->ct_len)) != 0)
		goto out;
	if (p->ct_len <= SEAL_TAG_LEN) {
		r = cer_err(CER_E_INPUT, "ciphertext of %zu bytes holds no share", p->ct_len);
		goto out;
	}
	if (!bufread_at_end(&b)) {
		r = cer_err(CER_E_INPUT, "%zu unexpected bytes after the ciphertext",
			    bufread_remaining(&b));
		goto out;
	}
	p->cost.opslimit = ops;
	p->cost.memlimit = (size_t)mem_kib * 1024;
	if ((uint64_t)mem_kib * 1024 != (uint64_t)p->cost.memlimit) {
		r = cer_err(CER_E_INPUT, "memlimit of %u KiB does not fit in memory",
			    (unsigned)mem_kib);
		goto out;
	}
	p->cost.test_limits_allowed = seal_limits_is_test(&p->cost);
	r = 0;
out:
	if (r != 0)
		cer_err_prefix("sealed share: ");
	return r;
}

/* The derived key is wiped explicitly, not only by secret_free, so no path forgets it. */
static void seal_key_wipe(struct secret *key)
{
	if (key != NULL)
		sodium_memzero(key->data, key->cap);
	secret_free(key);
}

/* Argon2id(passphrase, salt) into a fresh 32-byte key in secure memory. */
static int seal_derive_key(const struct secret *passphrase, const uint8_t *salt,
			   const struct seal_limits *cost, struct secret **key_out)
{
	struct secret *key = NULL;
	int r;

	*key_out = NULL;
	if ((r = secret_new(SEAL_KEY_LEN, &key)) != 0)
		goto out;
	if (crypto_pwhash(key->data, SEAL_KEY_LEN, (const char *)passphrase->data,
			  passphrase->len, salt, cost->opslimit, cost->memlimit,
			  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		r = cer_err(CER_E_NOMEM, "Argon2id could not get %zu KiB of memory",
			    cost->memlimit / 1024);
		goto out;
	}
	key->len = SEAL_KEY_LEN;
	*key_out = key;
	key = NULL;
	r = 0;
out:
	seal_key_wipe(key);
	return r;
}

struct seal_key {
	struct seal_limits cost;
	uint8_t salt[SEAL_SALT_LEN];
	struct secret *key;
};

int seal_key_derive(const struct secret *passphrase, const struct seal_limits *lim,
		    struct seal_key **out)
{
	struct seal_key *k = NULL;
	int r;

	*out = NULL;
	if (passphrase == NULL || passphrase->len == 0)
		return cer_err(CER_E_PIN, "sealing a share: the passphrase is empty");
	if ((r = seal_cost_check("sealing a share", lim->opslimit, lim->memlimit, lim)) != 0)
		return r;
	if ((k = sodium_malloc(sizeof(*k))) == NULL)
		return cer_err(CER_E_NOMEM, "cannot allocate secure memory");
	sodium_memzero(k, sizeof(*k));
	k->cost = *lim;
	secret_random(k->salt, sizeof(k->salt));
	if ((r = seal_derive_key(passphrase, k->salt, lim, &k->key)) != 0) {
		seal_key_free(k);
		return r;
	}
	*out = k;
	return 0;
}

void seal_key_free(struct seal_key *k)
{
	if (k == NULL)
		return;
	seal_key_wipe(k->key);
	sodium_free(k); /* wipes the salt and cost too */
}

/* Writing our own blob: the length is computed first, so no check is needed per field. */
static size_t seal_put_u16(uint8_t *out, size_t off, uint16_t v)
{
	out[off] = (uint8_t)(v >> 8);
	out[off + 1] = (uint8_t)v;
	return off + 2;
}

static size_t seal_put_u32(uint8_t *out, size_t off, uint32_t v)
{
	out[off] = (uint8_t)(v >> 24);
	out[off + 1] = (uint8_t)(v >> 16);
	out[off + 2] = (uint8_t)(v >> 8);
	out[off + 3] = (uint8_t)v;
	return off + 4;
}

static size_t seal_put_bytes(uint8_t *out, size_t off, const uint8_t *in, size_t len)
{
	if (len > 0)
		memcpy(out + off, in, len);
	return off + len;
}

int seal_share_with_key(const struct seal_key *k, const uint8_t *share, size_t share_len,
			const uint8_t *meta, size_t meta_len, uint8_t **blob, size_t *blob_len)
{
	uint8_t nonce[SEAL_NONCE_LEN];
	uint8_t *out = NULL;
	unsigned long long ct_len = 0;
	size_t total, ad_len, off = 0;
	int r = CER_E_INTERNAL;

	*blob = NULL;
	*blob_len = 0;
	if (share_len == 0 || share_len > SEAL_SHARE_MAX) {
		r = cer_err(CER_E_INPUT, "sealing a share: %zu bytes is not within 1..%d",
			    share_len, SEAL_SHARE_MAX);
		goto out;
	}
	if (meta_len > SEAL_META_MAX) {
		r = cer_err(CER_E_INPUT, "sealing a share: metadata of %zu bytes is above %d",
			    meta_len, SEAL_META_MAX);
		goto out;
	}
	/* A 192-bit random nonce is safe (XChaCha20), even if one key sealed several shares. */
	secret_random(nonce, sizeof(nonce));
	ad_len = SEAL_HEADER_LEN + 4 + meta_len + 4;
	total = ad_len + share_len + SEAL_TAG_LEN;
	if ((out = malloc(total)) == NULL) {
		r = cer_err(CER_E_NOMEM, "sealing a share: out of memory");
		goto out;
	}
	off = seal_put_bytes(out, off, (const uint8_t *)SEAL_MAGIC, SEAL_MAGIC_LEN);
	off = seal_put_u16(out, off, SEAL_VERSION);
	off = seal_put_u32(out, off, (uint32_t)k->cost.opslimit);
	off = seal_put_u32(out, off, (uint32_t)(k->cost.memlimit / 1024));
	off = seal_put_bytes(out, off, k->salt, sizeof(k->salt));
	off = seal_put_bytes(out, off, nonce, sizeof(nonce));
	off = seal_put_u32(out, off, (uint32_t)meta_len);
	off = seal_put_bytes(out, off, meta, meta_len);
	off = seal_put_u32(out, off, (uint32_t)(share_len + SEAL_TAG_LEN));
	if (off != ad_len) {
		r = cer_err(CER_E_INTERNAL, "sealing a share: header layout mismatch");
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + ad_len, &ct_len, share, share_len,
						       out, ad_len, NULL, nonce, k->key->data) != 0 ||
	    ct_len != share_len + SEAL_TAG_LEN) {
		r = cer_err(CER_E_CRYPTO, "sealing a share: XChaCha20-Poly1305 failed");
		goto out;
	}
	*blob = out;
	*blob_len = total;
	out = NULL;
	r = 0;
out:
	free(out);
	return r;
}

int seal_share(const struct secret *passphrase, const uint8_t *share, size_t share_len,
	       const uint8_t *meta, size_t meta_len, const struct seal_limits *lim,
	       uint8_t **blob, size_t *blob_len)
{
	struct seal_key *k = NULL;
	int r;

	*blob = NULL;
	*blob_len = 0;
	if (share_len == 0 || share_len > SEAL_SHARE_MAX)
		return cer_err(CER_E_INPUT, "sealing a share: %zu bytes is not within 1..%d",
			       share_len, SEAL_SHARE_MAX);
	if (meta_len > SEAL_META_MAX)
		return cer_err(CER_E_INPUT, "sealing a share: metadata of %zu bytes is above %d",
			       meta_len, SEAL_META_MAX);
	if ((r = seal_key_derive(passphrase, lim, &k)) != 0)
		return r;
	r = seal_share_with_key(k, share, share_len, meta, meta_len, blob, blob_len);
	seal_key_free(k);
	return r;
}

/* Decrypt a parsed blob with its key; the tag covers every byte before the ciphertext. */
static int seal_decrypt(const struct secret *key, const uint8_t *blob, const struct seal_parsed *p,
			struct secret **share_out)
{
	struct secret *share = NULL;
	unsigned long long share_len = 0;
	int r;

	if ((r = secret_new(p->ct_len - SEAL_TAG_LEN, &share)) != 0)
		return r;
	/* p->ct follows the associated data in the same blob: both came out of seal_parse. */
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(share->data, &share_len, NULL, p->ct,
						       p->ct_len, blob, p->ad_len, p->nonce,
						       key->data) != 0 ||
	    share_len != p->ct_len - SEAL_TAG_LEN) {
		secret_free(share);
		return cer_err(CER_E_PIN, "wrong passphrase or damaged sealed share");
	}
	share->len = (size_t)share_len;
	*share_out = share;
	return 0;
}

int seal_open_with_key(const struct seal_key *k, const uint8_t *blob, size_t len,
		       struct secret **share_out)
{
	struct seal_parsed p;
	int r;

	*share_out = NULL;
	if ((r = seal_parse(blob, len, &p)) != 0)
		return r;
	/* The key fits only the salt and cost it was derived with: a blob that says otherwise
	 * was not sealed with this key. */
	if (p.cost.opslimit != k->cost.opslimit || p.cost.memlimit != k->cost.memlimit ||
	    sodium_memcmp(p.salt, k->salt, SEAL_SALT_LEN) != 0)
		return cer_err(CER_E_VERIFY, "sealed share: not sealed with this key (salt or cost "
					     "differ)");
	return seal_decrypt(k->key, blob, &p, share_out);
}

int seal_open(const struct secret *passphrase, const uint8_t *blob, size_t len,
	      const struct seal_limits *allowed, struct secret **share_out)
{
	struct seal_parsed p;
	struct secret *key = NULL;
	int r = CER_E_INTERNAL;

	*share_out = NULL;
	if ((r = seal_parse(blob, len, &p)) != 0)
		goto out;
	/* Before any Argon2 work: a tampered cost must not buy a DoS or a downgrade. */
	if ((r = seal_cost_check("sealed share", p.cost.opslimit, p.cost.memlimit, allowed)) != 0)
		goto out;
	if (passphrase == NULL || passphrase->len == 0) {
		r = cer_err(CER_E_PIN, "opening a sealed share: the passphrase is empty");
		goto out;
	}
	if (sodium_init() < 0) {
		r = cer_err(CER_E_CRYPTO, "libsodium failed to initialise");
		goto out;
	}
	if ((r = seal_derive_key(passphrase, p.salt, &p.cost, &key)) != 0)
		goto out;
	r = seal_decrypt(key, blob, &p, share_out);
out:
	seal_key_wipe(key);
	return r;
}

int seal_peek_meta(const uint8_t *blob, size_t len, const uint8_t **meta, size_t *meta_len)
{
	struct seal_parsed p;
	int r;

	*meta = NULL;
	*meta_len = 0;
	if ((r = seal_parse(blob, len, &p)) != 0)
		return r;
	*meta = p.meta;
	*meta_len = p.meta_len;
	return 0;
}

int seal_peek_limits(const uint8_t *blob, size_t len, struct seal_limits *out)
{
	struct seal_parsed p;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = seal_parse(blob, len, &p)) != 0)
		return r;
	*out = p.cost;
	return 0;
}

/*
 * Unit tests for seal: a share sealed to a passphrase. All but one test use
 * the test cost (1 pass, 8 KiB) so the program stays fast.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ceremony/err.h"
#include "ceremony/seal.h"
#include "ceremony/secret.h"

#define META_OFF (SEAL_HEADER_LEN + 4) /* where the metadata starts (seal.h layout) */
#define OPS_OFF 10
#define MEM_OFF 14

static const uint8_t share_bytes[32] = {
	0x5a, 0x11, 0xc3, 0x7e, 0x90, 0x2b, 0x44, 0xd8, 0x01, 0xfe, 0x6c,
	0x39, 0xa7, 0x58, 0x12, 0xe4, 0x8b, 0x73, 0x2f, 0xc0, 0x66, 0x9d,
	0x04, 0xba, 0x3e, 0xf1, 0x87, 0x20, 0x5d, 0xcc, 0x19, 0x6a};
static const char meta_ke1[] = "{\"ke\":\"KE1\",\"share\":1,\"of\":5,\"threshold\":3}";
static const char meta_ke2[] = "{\"ke\":\"KE2\",\"share\":2,\"of\":5,\"threshold\":3}";

static struct secret *pass_new(const char *text)
{
	struct secret *s = NULL;
	size_t n = strlen(text);

	assert_int_equal(secret_new(n, &s), 0);
	memcpy(s->data, text, n);
	s->len = n;
	return s;
}

static void seal_test(const char *pass, const char *meta, uint8_t **blob, size_t *len)
{
	struct seal_limits lim = seal_limits_test();
	struct secret *p = pass_new(pass);

	assert_int_equal(seal_share(p, share_bytes, sizeof(share_bytes), (const uint8_t *)meta,
				    strlen(meta), &lim, blob, len),
			 0);
	secret_free(p);
}

/* seal_open's result, asserting that a refusal hands back no share. */
static int open_with(const char *pass, const uint8_t *blob, size_t len,
		     const struct seal_limits *allowed)
{
	struct secret *p = pass_new(pass), *share = (struct secret *)1;
	int r = seal_open(p, blob, len, allowed, &share);

	if (r != 0)
		assert_null(share);
	secret_free(share);
	secret_free(p);
	return r;
}

static int setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

static void test_seal_round_trip_returns_share_and_meta(void **state)
{
	struct seal_limits lim = seal_limits_test(), got;
	struct secret *p = pass_new("correct horse battery staple"), *share = NULL;
	const uint8_t *meta;
	size_t meta_len, len;
	uint8_t *blob;

	(void)state;
	seal_test("correct horse battery staple", meta_ke1, &blob, &len);
	assert_int_equal(len, SEAL_HEADER_LEN + 4 + strlen(meta_ke1) + 4 + 32 + SEAL_TAG_LEN);
	assert_memory_equal(blob, SEAL_MAGIC, SEAL_MAGIC_LEN);
	assert_int_equal(seal_open(p, blob, len, &lim, &share), 0);
	assert_non_null(share);
	assert_int_equal(share->len, sizeof(share_bytes));
	assert_memory_equal(share->data, share_bytes, sizeof(share_bytes));
	assert_int_equal(share->data[share->len], 0);
	assert_int_equal(seal_peek_meta(blob, len, &meta, &meta_len), 0);
	assert_int_equal(meta_len, strlen(meta_ke1));
	assert_memory_equal(meta, meta_ke1, meta_len);
	assert_int_equal(seal_peek_limits(blob, len, &got), 0);
	assert_int_equal(got.opslimit, SEAL_OPSLIMIT_TEST_FLOOR);
	assert_int_equal(got.memlimit, SEAL_MEMLIMIT_TEST_FLOOR);
	assert_true(got.test_limits_allowed);
	secret_free(share);
	secret_free(p);
	free(blob);
}

static void test_seal_round_trip_with_empty_meta_and_largest_share(void **state)
{
	struct seal_limits lim = seal_limits_test();
	struct secret *p = pass_new("x"), *share = NULL;
	uint8_t *big = malloc(SEAL_SHARE_MAX), *blob;
	const uint8_t *meta;
	size_t len, meta_len;

	(void)state;
	assert_non_null(big);
	randombytes_buf(big, SEAL_SHARE_MAX);
	assert_int_equal(seal_share(p, big, SEAL_SHARE_MAX, NULL, 0, &lim, &blob, &len), 0);
	assert_int_equal(seal_peek_meta(blob, len, &meta, &meta_len), 0);
	assert_int_equal(meta_len, 0);
	assert_int_equal(seal_open(p, blob, len, &lim, &share), 0);
	assert_int_equal(share->len, SEAL_SHARE_MAX);
	assert_memory_equal(share->data, big, SEAL_SHARE_MAX);
	secret_free(share);
	secret_free(p);
	free(blob);
	free(big);
}

static void test_seal_two_seals_of_same_share_differ(void **state)
{
	uint8_t *a, *b;
	size_t alen, blen;

	(void)state;
	seal_test("pw", meta_ke1, &a, &alen);
	seal_test("pw", meta_ke1, &b, &blen);
	assert_int_equal(alen, blen);
	/* fresh salt and nonce each time */
	assert_memory_not_equal(a + 18, b + 18, SEAL_SALT_LEN);
	assert_memory_not_equal(a + 34, b + 34, SEAL_NONCE_LEN);
	assert_memory_not_equal(a, b, alen);
	free(a);
	free(b);
}

static void test_seal_refuses_wrong_passphrase(void **state)
{
	struct seal_limits lim = seal_limits_test();
	uint8_t *blob;
	size_t len;

	(void)state;
	seal_test("correct horse", meta_ke1, &blob, &len);
	assert_int_equal(open_with("correct hors", blob, len, &lim), CER_E_PIN);
	assert_string_equal(cer_err_msg(CER_E_PIN), "wrong passphrase or damaged sealed share");
	assert_int_equal(open_with("correct horsf", blob, len, &lim), CER_E_PIN);
	assert_int_equal(open_with("Correct horse", blob, len, &lim), CER_E_PIN);
	assert_int_equal(open_with("correct horse ", blob, len, &lim), CER_E_PIN);
	assert_int_equal(open_with("correct horse", blob, len, &lim), 0);
	free(blob);
}

static void test_seal_refuses_empty_passphrase(void **state)
{
	struct seal_limits lim = seal_limits_test();
	struct secret *empty = NULL, *share = NULL;
	uint8_t *blob = (uint8_t *)1;
	size_t len = 1;

	(void)state;
	assert_int_equal(secret_new(8, &empty), 0);
	assert_int_equal(seal_share(empty, share_bytes, 32, NULL, 0, &lim, &blob, &len), CER_E_PIN);
	assert_null(blob);
	assert_int_equal(len, 0);
	seal_test("pw", meta_ke1, &blob, &len);
	assert_int_equal(seal_open(empty, blob, len, &lim, &share), CER_E_PIN);
	assert_null(share);
	secret_free(empty);
	free(blob);
}

static void test_seal_refuses_every_single_byte_changed(void **state)
{
	static const uint8_t masks[] = {0x01, 0x80, 0xff};
	struct seal_limits lim = seal_limits_test();
	uint8_t *blob, *copy;
	size_t len;

	(void)state;
	seal_test("pw", meta_ke1, &blob, &len);
	copy = malloc(len);
	assert_non_null(copy);
	for (size_t i = 0; i < len; i++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			memcpy(copy, blob, len);
			copy[i] ^= masks[m];
			int r = open_with("pw", copy, len, &lim);
			if (r == 0)
				fail_msg("byte %zu ^ 0x%02x was accepted", i, masks[m]);
			assert_true(r == CER_E_PIN || r == CER_E_INPUT || r == CER_E_REFUSED);
			/* changes past the magic and version reach the tag or a range check */
			if (i >= 10 && i < META_OFF - 4)
				assert_true(r == CER_E_PIN || r == CER_E_REFUSED);
		}
	}
	memcpy(copy, blob, len);
	assert_int_equal(open_with("pw", copy, len, &lim), 0);
	free(copy);
	free(blob);
}

static void test_seal_refuses_every_truncation_and_extension(void **state)
{
	struct seal_limits lim = seal_limits_test();
	const uint8_t *meta;
	size_t meta_len, len;
	uint8_t *blob, *longer;

	(void)state;
	seal_test("pw", meta_ke1, &blob, &len);
	for (size_t n = 0; n < len; n++) {
		assert_int_equal(open_with("pw", blob, n, &lim), CER_E_INPUT);
		assert_int_equal(seal_peek_meta(blob, n, &meta, &meta_len), CER_E_INPUT);
		assert_null(meta);
	}
	assert_int_equal(open_with("pw", NULL, 0, &lim), CER_E_INPUT);
	longer = malloc(len + 1);
	assert_non_null(longer);
	memcpy(longer, blob, len);
	longer[len] = 0;
	assert_int_equal(open_with("pw", longer, len + 1, &lim), CER_E_INPUT);
	assert_int_equal(seal_peek_meta(longer, len + 1, &meta, &meta_len), CER_E_INPUT);
	free(longer);
	free(blob);
}

static void test_seal_refuses_metadata_swapped_between_blobs(void **state)
{
	struct seal_limits lim = seal_limits_test();
	const char *other = "{\"ke\":\"KE2\"}";
	size_t alen, blen, olen = strlen(other), mlen, k1 = strlen(meta_ke1), meta_len;
	uint8_t *a, *b, *mix;
	const uint8_t *meta;

	(void)state;
	seal_test("pw", meta_ke1, &a, &alen);
	seal_test("pw", meta_ke2, &b, &blen);
	assert_int_equal(alen, blen);
	assert_int_equal(open_with("pw", a, alen, &lim), 0);
	assert_int_equal(open_with("pw", b, blen, &lim), 0);

	/* same-length metadata: B's in A's blob, and A's in B's */
	memcpy(a + META_OFF, meta_ke2, strlen(meta_ke2));
	memcpy(b + META_OFF, meta_ke1, strlen(meta_ke1));
	assert_int_equal(open_with("pw", a, alen, &lim), CER_E_PIN);
	assert_int_equal(open_with("pw", b, blen, &lim), CER_E_PIN);
	memcpy(a + META_OFF, meta_ke1, strlen(meta_ke1));

	/* different length: A's header, other metadata with a consistent length, A's ciphertext */
	mlen = alen - k1 + olen;
	mix = malloc(mlen);
	assert_non_null(mix);
	memcpy(mix, a, SEAL_HEADER_LEN);
	mix[SEAL_HEADER_LEN] = 0;
	mix[SEAL_HEADER_LEN + 1] = 0;
	mix[SEAL_HEADER_LEN + 2] = 0;
	mix[SEAL_HEADER_LEN + 3] = (uint8_t)olen;
	memcpy(mix + META_OFF, other, olen);
	memcpy(mix + META_OFF + olen, a + META_OFF + k1, alen - META_OFF - k1);
	assert_int_equal(seal_peek_meta(mix, mlen, &meta, &meta_len), 0); /* well formed */
	assert_memory_equal(meta, other, olen);
	assert_int_equal(open_with("pw", mix, mlen, &lim), CER_E_PIN);
	free(mix);

	/* A's header and metadata with B's ciphertext */
	memcpy(b + META_OFF, meta_ke2, strlen(meta_ke2));
	memcpy(a + alen - 32 - SEAL_TAG_LEN, b + blen - 32 - SEAL_TAG_LEN, 32 + SEAL_TAG_LEN);
	assert_int_equal(open_with("pw", a, alen, &lim), CER_E_PIN);
	free(a);
	free(b);
}

static void test_seal_refuses_limits_out_of_range_when_sealing(void **state)
{
	static const struct seal_limits bad[] = {
		{0, SEAL_MEMLIMIT_TEST_FLOOR, true},
		{1, 4096, true},
		{1, 8 * 1024 + 1, true},
		{SEAL_OPSLIMIT_CAP + 1, SEAL_MEMLIMIT_TEST_FLOOR, true},
		{1, SEAL_MEMLIMIT_CAP + 1024, true},
		/* test cost without the flag */
		{1, SEAL_MEMLIMIT_TEST_FLOOR, false},
		{SEAL_OPSLIMIT_FLOOR, SEAL_MEMLIMIT_FLOOR - 1024, false},
		{SEAL_OPSLIMIT_FLOOR - 1, SEAL_MEMLIMIT_FLOOR, false},
	};
	struct secret *p = pass_new("pw");
	uint8_t *blob;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(seal_share(p, share_bytes, 32, NULL, 0, &bad[i], &blob, &len),
				 CER_E_REFUSED);
		assert_null(blob);
	}
	secret_free(p);
}

static void put_u32(uint8_t *at, uint32_t v)
{
	at[0] = (uint8_t)(v >> 24);
	at[1] = (uint8_t)(v >> 16);
	at[2] = (uint8_t)(v >> 8);
	at[3] = (uint8_t)v;
}

static void test_seal_open_refuses_cost_out_of_range(void **state)
{
	struct seal_limits test = seal_limits_test(), prod = seal_limits_production();
	struct seal_limits more = {2, 16 * 1024, true}, unflagged = {1, 8 * 1024, false};
	uint8_t *blob;
	size_t len;

	(void)state;
	seal_test("pw", meta_ke1, &blob, &len);
	/* a test-cost blob is refused by a production caller before any Argon2 work */
	assert_int_equal(open_with("pw", blob, len, &prod), CER_E_REFUSED);
	assert_non_null(strstr(cer_err_msg(CER_E_REFUSED), "below the floor"));
	assert_int_equal(open_with("pw", blob, len, &unflagged), CER_E_REFUSED);
	/* and by a caller that asks for more than the blob has */
	assert_int_equal(open_with("pw", blob, len, &more), CER_E_REFUSED);
	assert_int_equal(open_with("pw", blob, len, &test), 0);

	/* a tampered cost above the cap is refused, not attempted */
	put_u32(blob + OPS_OFF, 0xffffffffu);
	assert_int_equal(open_with("pw", blob, len, &test), CER_E_REFUSED);
	assert_non_null(strstr(cer_err_msg(CER_E_REFUSED), "above the cap"));
	put_u32(blob + OPS_OFF, 1);
	put_u32(blob + MEM_OFF, 0xffffffffu);
	assert_int_equal(open_with("pw", blob, len, &test), CER_E_REFUSED);
	put_u32(blob + MEM_OFF, (uint32_t)(SEAL_MEMLIMIT_CAP / 1024 + 1));
	assert_int_equal(open_with("pw", blob, len, &test), CER_E_REFUSED);
	/* below libsodium's minimum even for tests */
	put_u32(blob + MEM_OFF, 4);
	assert_int_equal(open_with("pw", blob, len, &test), CER_E_REFUSED);
	put_u32(blob + MEM_OFF, 8);
	put_u32(blob + OPS_OFF, 0);
	assert_int_equal(open_with("pw", blob, len, &test), CER_E_REFUSED);
	/* a cost raised within range still fails the tag: the cost is authenticated */
	put_u32(blob + OPS_OFF, 2);
	assert_int_equal(open_with("pw", blob, len, &test), CER_E_PIN);
	put_u32(blob + OPS_OFF, 1);
	assert_int_equal(open_with("pw", blob, len, &test), 0);
	free(blob);
}

static void test_seal_refuses_bad_sizes(void **state)
{
	struct seal_limits lim = seal_limits_test();
	struct secret *p = pass_new("pw");
	static uint8_t big[SEAL_META_MAX + 1];
	uint8_t *blob;
	size_t len;

	(void)state;
	assert_int_equal(seal_share(p, share_bytes, 0, NULL, 0, &lim, &blob, &len), CER_E_INPUT);
	assert_int_equal(seal_share(p, big, SEAL_SHARE_MAX + 1, NULL, 0, &lim, &blob, &len),
			 CER_E_INPUT);
	assert_int_equal(seal_share(p, share_bytes, 32, big, SEAL_META_MAX + 1, &lim, &blob, &len),
			 CER_E_INPUT);
	assert_null(blob);
	assert_int_equal(seal_share(p, share_bytes, 32, big, SEAL_META_MAX, &lim, &blob, &len), 0);
	assert_int_equal(len, SEAL_BLOB_MAX - SEAL_SHARE_MAX + 32);
	free(blob);
	secret_free(p);
}

static void test_seal_refuses_unknown_magic_and_version(void **state)
{
	struct seal_limits lim = seal_limits_test();
	uint8_t *blob;
	size_t len;

	(void)state;
	seal_test("pw", meta_ke1, &blob, &len);
	blob[9] = 2;
	assert_int_equal(open_with("pw", blob, len, &lim), CER_E_INPUT);
	assert_non_null(strstr(cer_err_msg(CER_E_INPUT), "version 2 is not supported"));
	blob[9] = 1;
	blob[0] = 'X';
	assert_int_equal(open_with("pw", blob, len, &lim), CER_E_INPUT);
	assert_non_null(strstr(cer_err_msg(CER_E_INPUT), "does not start with CERSEAL1"));
	free(blob);
}

static void test_seal_blob_never_contains_share_bytes(void **state)
{
	uint8_t *blob;
	size_t len;

	(void)state;
	seal_test("pw", meta_ke1, &blob, &len);
	assert_null(memmem(blob, len, share_bytes, sizeof(share_bytes)));
	/* no 8-byte run of the share either (random chance of a match is ~2^-57) */
	for (size_t i = 0; i + 8 <= sizeof(share_bytes); i++)
		assert_null(memmem(blob, len, share_bytes + i, 8));
	free(blob);
}

/* One seal and open at the production cost, so the shipped path runs too (~1 s). */
static void test_seal_round_trip_at_production_cost(void **state)
{
	struct seal_limits prod = seal_limits_production(), got;
	struct secret *p = pass_new("a real passphrase"), *share = NULL;
	uint8_t *blob;
	size_t len;

	(void)state;
	assert_int_equal(
		seal_share(p, share_bytes, 32, (const uint8_t *)"m", 1, &prod, &blob, &len), 0);
	assert_int_equal(seal_peek_limits(blob, len, &got), 0);
	assert_int_equal(got.opslimit, SEAL_OPSLIMIT_FLOOR);
	assert_int_equal(got.memlimit, SEAL_MEMLIMIT_FLOOR);
	assert_false(got.test_limits_allowed);
	assert_int_equal(seal_open(p, blob, len, &prod, &share), 0);
	assert_memory_equal(share->data, share_bytes, 32);
	secret_free(share);
	secret_free(p);
	free(blob);
}

/* Issue 13 item 4: one Argon2id run per share: the key that sealed it reads it back. */
static void test_seal_key_seals_and_reads_back_without_another_derivation(void **state)
{
	struct seal_limits lim = seal_limits_test();
	struct secret *p = pass_new("correct horse battery staple"), *share = NULL;
	struct seal_key *k = NULL, *other = NULL;
	uint8_t *blob = NULL, *blob2 = NULL;
	size_t len = 0, len2 = 0;

	(void)state;
	assert_int_equal(seal_key_derive(p, &lim, &k), 0);
	assert_int_equal(seal_share_with_key(k, share_bytes, sizeof(share_bytes),
					     (const uint8_t *)meta_ke1, strlen(meta_ke1), &blob, &len),
			 0);
	assert_int_equal(seal_open_with_key(k, blob, len, &share), 0);
	assert_int_equal(share->len, sizeof(share_bytes));
	assert_memory_equal(share->data, share_bytes, sizeof(share_bytes));
	secret_free(share);
	share = NULL;
	/* The passphrase alone opens it too, as at recovery. */
	assert_int_equal(open_with("correct horse battery staple", blob, len, &lim), 0);
	/* Another key of the same passphrase has another salt: refused, no share. */
	assert_int_equal(seal_key_derive(p, &lim, &other), 0);
	assert_int_equal(seal_open_with_key(other, blob, len, &share), CER_E_VERIFY);
	assert_null(share);
	/* A changed byte fails the tag as with seal_open. */
	blob[len - 1] ^= 1;
	assert_int_equal(seal_open_with_key(k, blob, len, &share), CER_E_PIN);
	assert_null(share);
	/* A blob sealed by the passphrase (its own salt) is not this key's. */
	seal_test("correct horse battery staple", meta_ke2, &blob2, &len2);
	assert_int_equal(seal_open_with_key(k, blob2, len2, &share), CER_E_VERIFY);
	seal_key_free(k);
	seal_key_free(other);
	secret_free(p);
	free(blob);
	free(blob2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_round_trip_returns_share_and_meta),
		cmocka_unit_test(test_seal_round_trip_with_empty_meta_and_largest_share),
		cmocka_unit_test(test_seal_two_seals_of_same_share_differ),
		cmocka_unit_test(test_seal_refuses_wrong_passphrase),
		cmocka_unit_test(test_seal_refuses_empty_passphrase),
		cmocka_unit_test(test_seal_refuses_every_single_byte_changed),
		cmocka_unit_test(test_seal_refuses_every_truncation_and_extension),
		cmocka_unit_test(test_seal_refuses_metadata_swapped_between_blobs),
		cmocka_unit_test(test_seal_refuses_limits_out_of_range_when_sealing),
		cmocka_unit_test(test_seal_open_refuses_cost_out_of_range),
		cmocka_unit_test(test_seal_refuses_bad_sizes),
		cmocka_unit_test(test_seal_refuses_unknown_magic_and_version),
		cmocka_unit_test(test_seal_blob_never_contains_share_bytes),
		cmocka_unit_test(test_seal_round_trip_at_production_cost),
		cmocka_unit_test(test_seal_key_seals_and_reads_back_without_another_derivation),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

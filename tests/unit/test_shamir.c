/* Unit tests for shamir: GF(256) arithmetic, interpolation, SLIP-39 SplitSecret/RecoverSecret. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ceremony/err.h"
#include "ceremony/shamir.h"
#include "test_rng.h"

/* Schoolbook reference: carry-less product, then reduce by x^8+x^4+x^3+x+1 with branches. */
static uint8_t naive_mul(uint8_t a, uint8_t b)
{
	unsigned p = 0;

	for (int i = 0; i < 8; i++)
		if (b & (1u << i))
			p ^= (unsigned)a << i;
	for (int i = 14; i >= 8; i--)
		if (p & (1u << i))
			p ^= 0x11bu << (i - 8);
	return (uint8_t)p;
}

static void test_gf256_fips197_products(void **state)
{
	(void)state;
	/* FIPS-197 4.2 and 4.2.1 examples. */
	assert_int_equal(shamir_gf256_mul(0x57, 0x83), 0xc1);
	assert_int_equal(shamir_gf256_mul(0x57, 0x13), 0xfe);
	assert_int_equal(shamir_gf256_inv(0x53), 0xca);
	assert_int_equal(shamir_gf256_inv(0xca), 0x53);
}

static void test_gf256_mul_matches_reference_for_all_pairs(void **state)
{
	(void)state;
	for (unsigned a = 0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++)
			if (shamir_gf256_mul((uint8_t)a, (uint8_t)b) !=
			    naive_mul((uint8_t)a, (uint8_t)b))
				fail_msg("%02x * %02x: got %02x, want %02x", a, b,
					 shamir_gf256_mul((uint8_t)a, (uint8_t)b),
					 naive_mul((uint8_t)a, (uint8_t)b));
}

static void test_gf256_inv_for_all_nonzero(void **state)
{
	(void)state;
	assert_int_equal(shamir_gf256_inv(0), 0);
	for (unsigned a = 1; a < 256; a++) {
		unsigned want = 0;
		for (unsigned b = 1; b < 256; b++)
			if (naive_mul((uint8_t)a, (uint8_t)b) == 1)
				want = b;
		assert_int_equal(shamir_gf256_inv((uint8_t)a), want);
	}
}

static size_t choose(size_t n, size_t k)
{
	size_t c = 1;
	for (size_t i = 1; i <= k; i++)
		c = c * (n - k + i) / i;
	return c;
}

/* Next k-subset of 0..n-1 in lexicographic order; 0 when done. */
static int next_subset(uint8_t *idx, size_t k, size_t n)
{
	size_t i = k;
	while (i > 0 && idx[i - 1] == n - k + i - 1)
		i--;
	if (i == 0)
		return 0;
	idx[i - 1]++;
	for (size_t j = i; j < k; j++)
		idx[j] = (uint8_t)(idx[j - 1] + 1);
	return 1;
}

/* A random k-subset of 0..n-1 (partial Fisher-Yates). */
static void random_subset(uint8_t *idx, size_t k, size_t n, struct shamir_rng *rng)
{
	uint8_t all[SHAMIR_MAX_SHARES], r;
	for (size_t i = 0; i < n; i++)
		all[i] = (uint8_t)i;
	for (size_t i = 0; i < k; i++) {
		shamir_random(rng, &r, 1);
		size_t j = i + r % (n - i);
		uint8_t t = all[i];
		all[i] = all[j];
		all[j] = t;
		idx[i] = all[i];
	}
}

static int recover_subset(int threshold, const uint8_t *shares, const uint8_t *idx, size_t k,
			  size_t len, uint8_t *out)
{
	const uint8_t *ys[SHAMIR_MAX_SHARES];
	for (size_t i = 0; i < k; i++)
		ys[i] = shares + idx[i] * len;
	return shamir_recover(threshold, idx, ys, k, len, out);
}

#define SUBSETS_MAX 40

static void test_shamir_round_trip_every_k_of_n(void **state)
{
	struct test_rng t;
	struct shamir_rng rng = test_rng_make(&t, 1);
	uint8_t secret[32], shares[SHAMIR_MAX_SHARES * 32], out[32], idx[SHAMIR_MAX_SHARES];
	(void)state;

	for (size_t n = 1; n <= SHAMIR_MAX_SHARES; n++) {
		for (size_t k = 1; k <= n; k++) {
			size_t len = (n + k) % 2 ? 16 : 32;
			shamir_random(&rng, secret, len);
			assert_int_equal(shamir_split((int)k, (int)n, secret, len, &rng, shares), 0);
			/* Every k-subset when there are few, else SUBSETS_MAX random ones. */
			int all = choose(n, k) <= SUBSETS_MAX;
			for (size_t i = 0; i < k; i++)
				idx[i] = (uint8_t)i;
			for (size_t s = 0; s < SUBSETS_MAX; s++) {
				if (!all)
					random_subset(idx, k, n, &rng);
				memset(out, 0, sizeof(out));
				assert_int_equal(recover_subset((int)k, shares, idx, k, len, out), 0);
				assert_memory_equal(out, secret, len);
				if (all && !next_subset(idx, k, n))
					break;
			}
			if (k < 2)
				continue;
			/* Fewer than k shares (every (k-1)-subset when there are few):
			 * refused by count, and with threshold k-1 (when that still has a
			 * digest) the digest does not match. */
			all = choose(n, k - 1) <= SUBSETS_MAX;
			for (size_t i = 0; i < k - 1; i++)
				idx[i] = (uint8_t)i;
			for (size_t s = 0; s < SUBSETS_MAX; s++) {
				if (!all)
					random_subset(idx, k - 1, n, &rng);
				assert_int_equal(recover_subset((int)k, shares, idx, k - 1, len, out),
						 CER_E_INPUT);
				if (k - 1 >= 2)
					assert_int_equal(recover_subset((int)k - 1, shares, idx,
									k - 1, len, out),
							 CER_E_VERIFY);
				if (all && !next_subset(idx, k - 1, n))
					break;
			}
		}
	}
}

static void test_shamir_split_threshold_one_copies_secret(void **state)
{
	uint8_t secret[16], shares[5 * 16];
	(void)state;
	memset(secret, 0xa5, sizeof(secret));
	assert_int_equal(shamir_split(1, 5, secret, 16, NULL, shares), 0);
	for (int i = 0; i < 5; i++)
		assert_memory_equal(shares + i * 16, secret, 16);
}

static void test_shamir_recover_rejects_duplicate_index(void **state)
{
	uint8_t secret[16] = {1}, shares[3 * 16], out[16], xs[2] = {1, 1};
	const uint8_t *ys[2] = {shares + 16, shares + 16};
	(void)state;
	assert_int_equal(shamir_split(2, 3, secret, 16, NULL, shares), 0);
	assert_int_equal(shamir_recover(2, xs, ys, 2, 16, out), CER_E_INPUT);
	assert_non_null(strstr(cer_err_msg(CER_E_INPUT), "same index"));
	/* The interpolation itself refuses too (zero denominator). */
	assert_int_equal(shamir_interpolate(255, xs, ys, 2, 16, out), CER_E_INPUT);
}

static void test_shamir_recover_detects_a_changed_share(void **state)
{
	uint8_t secret[32], shares[4 * 32], out[32], idx[3] = {0, 2, 3};
	(void)state;
	randombytes_buf(secret, sizeof(secret));
	assert_int_equal(shamir_split(3, 4, secret, 32, NULL, shares), 0);
	for (size_t byte = 0; byte < 32; byte += 7) {
		shares[2 * 32 + byte] ^= 0x01;
		assert_int_equal(recover_subset(3, shares, idx, 3, 32, out), CER_E_VERIFY);
		assert_non_null(strstr(cer_err_msg(CER_E_VERIFY), "digest"));
		shares[2 * 32 + byte] ^= 0x01;
	}
	assert_int_equal(recover_subset(3, shares, idx, 3, 32, out), 0);
	assert_memory_equal(out, secret, 32);
}

static void test_shamir_interpolate_at_a_share_index_gives_that_share(void **state)
{
	uint8_t secret[16] = {9}, shares[4 * 16], out[16], xs[3] = {0, 1, 2};
	const uint8_t *ys[3] = {shares, shares + 16, shares + 32};
	(void)state;
	assert_int_equal(shamir_split(3, 4, secret, 16, NULL, shares), 0);
	assert_int_equal(shamir_interpolate(3, xs, ys, 3, 16, out), 0);
	assert_memory_equal(out, shares + 48, 16);
	assert_int_equal(shamir_interpolate(1, xs, ys, 3, 16, out), 0);
	assert_memory_equal(out, shares + 16, 16);
	assert_int_equal(shamir_interpolate(255, xs, ys, 3, 16, out), 0);
	assert_memory_equal(out, secret, 16);
}

static void test_shamir_split_rejects_bad_parameters(void **state)
{
	uint8_t secret[SHAMIR_MAX_LEN + 2] = {0}, shares[17 * (SHAMIR_MAX_LEN + 2)];
	(void)state;
	assert_int_equal(shamir_split(0, 3, secret, 16, NULL, shares), CER_E_INPUT);
	assert_int_equal(shamir_split(4, 3, secret, 16, NULL, shares), CER_E_INPUT);
	assert_int_equal(shamir_split(2, 17, secret, 16, NULL, shares), CER_E_INPUT);
	assert_int_equal(shamir_split(2, 3, secret, 15, NULL, shares), CER_E_INPUT);
	assert_int_equal(shamir_split(2, 3, secret, SHAMIR_MAX_LEN + 1, NULL, shares),
			 CER_E_INPUT);
}

static void test_shamir_split_is_reproducible_with_an_injected_rng(void **state)
{
	struct test_rng t1, t2;
	struct shamir_rng r1 = test_rng_make(&t1, 7), r2 = test_rng_make(&t2, 7);
	uint8_t secret[16] = {3}, a[5 * 16], b[5 * 16];
	(void)state;
	assert_int_equal(shamir_split(3, 5, secret, 16, &r1, a), 0);
	assert_int_equal(shamir_split(3, 5, secret, 16, &r2, b), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(shamir_split(3, 5, secret, 16, NULL, b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
}

/*
 * One share's bytes are uniform whatever the secret: chi-square over 256 bins
 * of 4096 splits x 16 bytes (df 255, mean 255, sd 22.6). 420 is > 7 sd away:
 * the real random source is used and the bound must never flake.
 */
static void test_shamir_share_bytes_are_uniform(void **state)
{
	uint8_t secret[16], shares[3 * 16];
	unsigned counts[256] = {0};
	const unsigned splits = 4096;
	double chi = 0, expected = splits * 16 / 256.0;
	(void)state;
	memset(secret, 0x42, sizeof(secret));
	for (unsigned s = 0; s < splits; s++) {
		/* threshold 2: share 1 is interpolated from the digest and the secret */
		assert_int_equal(shamir_split(2, 3, secret, 16, NULL, shares), 0);
		for (int i = 0; i < 16; i++)
			counts[shares[16 + i]]++;
	}
	for (int i = 0; i < 256; i++)
		chi += (counts[i] - expected) * (counts[i] - expected) / expected;
	if (chi > 420.0)
		fail_msg("chi-square %.1f over 255 degrees of freedom", chi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gf256_fips197_products),
		cmocka_unit_test(test_gf256_mul_matches_reference_for_all_pairs),
		cmocka_unit_test(test_gf256_inv_for_all_nonzero),
		cmocka_unit_test(test_shamir_round_trip_every_k_of_n),
		cmocka_unit_test(test_shamir_split_threshold_one_copies_secret),
		cmocka_unit_test(test_shamir_recover_rejects_duplicate_index),
		cmocka_unit_test(test_shamir_recover_detects_a_changed_share),
		cmocka_unit_test(test_shamir_interpolate_at_a_share_index_gives_that_share),
		cmocka_unit_test(test_shamir_split_rejects_bad_parameters),
		cmocka_unit_test(test_shamir_split_is_reproducible_with_an_injected_rng),
		cmocka_unit_test(test_shamir_share_bytes_are_uniform),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

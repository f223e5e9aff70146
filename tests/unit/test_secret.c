/*
 * Unit tests for secret's random mix (issue 9 item 18): an RNG that answers
 * OK with zeros or a repeating pattern is refused; a good one is hashed with
 * libsodium's bytes so neither source alone decides the output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ceremony/err.h"
#include "ceremony/secret.h"

static int setup(void **state)
{
	(void)state;
	return secret_init();
}

static void test_secret_mix_draws_at_least_two_blocks(void **state)
{
	(void)state;
	assert_int_equal(secret_random_mix_draw(1), SECRET_MIX_MIN_DRAW);
	assert_int_equal(secret_random_mix_draw(20), SECRET_MIX_MIN_DRAW);
	assert_int_equal(secret_random_mix_draw(32), 32);
	assert_int_equal(secret_random_mix_draw(33), 48);
}

static void test_secret_mix_refuses_all_zero_source(void **state)
{
	uint8_t zeros[64] = {0}, out[32];

	(void)state;
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(secret_random_mix(zeros, 32, "token \"root-hsm\"", out, 32), CER_E_CRYPTO);
	assert_non_null(strstr(cer_err_msg(CER_E_CRYPTO), "token \"root-hsm\"'s random generator "
							  "returned 32 zero bytes"));
}

static void test_secret_mix_refuses_repeated_blocks(void **state)
{
	uint8_t other[64], out[64];

	(void)state;
	randombytes_buf(other, 16);
	memcpy(other + 16, other, 16); /* a pattern that repeats every 16 bytes */
	assert_int_equal(secret_random_mix(other, 32, "token \"t\"", out, 20), CER_E_CRYPTO);
	assert_non_null(strstr(cer_err_msg(CER_E_CRYPTO), "same 16-byte block twice"));
	randombytes_buf(other, sizeof(other));
	memcpy(other + 48, other + 16, 16); /* blocks 1 and 3 equal, not adjacent */
	assert_int_equal(secret_random_mix(other, 64, "token \"t\"", out, 64), CER_E_CRYPTO);
}

static void test_secret_mix_output_is_not_the_source_and_differs_each_time(void **state)
{
	uint8_t other[96], a[80], b[80];

	(void)state;
	randombytes_buf(other, sizeof(other));
	assert_int_equal(secret_random_mix(other, 96, "token \"t\"", a, 80), 0);
	assert_int_equal(secret_random_mix(other, 96, "token \"t\"", b, 80), 0);
	/* Same HSM bytes twice: libsodium's share still changes the output. */
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, other, sizeof(a));
	assert_false(sodium_is_zero(a + 64, 16)); /* the second BLAKE2b block is filled */
}

static void test_secret_mix_refuses_short_draw(void **state)
{
	uint8_t other[32], out[64];

	(void)state;
	randombytes_buf(other, sizeof(other));
	assert_int_equal(secret_random_mix(other, 16, "token \"t\"", out, 16), CER_E_INTERNAL);
	assert_int_equal(secret_random_mix(other, 32, "token \"t\"", out, 64), CER_E_INTERNAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_mix_draws_at_least_two_blocks),
		cmocka_unit_test(test_secret_mix_refuses_all_zero_source),
		cmocka_unit_test(test_secret_mix_refuses_repeated_blocks),
		cmocka_unit_test(test_secret_mix_output_is_not_the_source_and_differs_each_time),
		cmocka_unit_test(test_secret_mix_refuses_short_draw),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

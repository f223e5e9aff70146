/* Unit tests for hex encoding: exact lengths, either case in, lowercase out, a new string. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ceremony/encode.h"
#include "ceremony/err.h"

static void test_hex_round_trip(void **state)
{
	static const uint8_t in[] = {0x00, 0x01, 0xab, 0xff};
	char out[9];
	uint8_t back[4];

	(void)state;
	hex_encode(in, sizeof(in), out);
	assert_string_equal(out, "0001abff");
	assert_int_equal(hex_decode("0001ABff", 8, back, 4), 0);
	assert_memory_equal(back, in, 4);
}

static void test_hex_decode_refuses_wrong_input(void **state)
{
	uint8_t out[2];

	(void)state;
	assert_int_equal(hex_decode("abc", 3, out, 2), CER_E_INPUT);   /* odd */
	assert_int_equal(hex_decode("abcdef", 6, out, 2), CER_E_INPUT); /* too long */
	assert_int_equal(hex_decode("ab", 2, out, 2), CER_E_INPUT);     /* too short */
	assert_int_equal(hex_decode("zz00", 4, out, 2), CER_E_INPUT);   /* not hex */
	assert_int_equal(hex_decode("0 12", 4, out, 2), CER_E_INPUT);   /* a space */
}

static void test_hex_grouped(void **state)
{
	static const uint8_t in[] = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02};
	char out[16];

	(void)state;
	hex_encode_grouped(in, sizeof(in), out);
	assert_string_equal(out, "dead beef 0102");
}

static void test_hex_encode_new(void **state)
{
	static const uint8_t in[] = {0x30, 0x59, 0x00, 0xff};
	char *out = NULL;

	(void)state;
	assert_int_equal(hex_encode_new(in, sizeof(in), &out), 0);
	assert_non_null(out);
	assert_string_equal(out, "305900ff");
	free(out);
	assert_int_equal(hex_encode_new(in, 0, &out), 0);
	assert_string_equal(out, "");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_round_trip),
		cmocka_unit_test(test_hex_decode_refuses_wrong_input),
		cmocka_unit_test(test_hex_grouped),
		cmocka_unit_test(test_hex_encode_new),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the bounds-checked reader every owned binary format uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ceremony/bufread.h"
#include "ceremony/err.h"

static void test_bufread_reads_big_endian_integers(void **state)
{
	static const uint8_t in[] = {0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef};
	struct bufread b;
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;

	(void)state;
	bufread_init(&b, in, sizeof(in));
	assert_int_equal(bufread_get_u8(&b, &v8), 0);
	assert_int_equal(v8, 0xab);
	assert_int_equal(bufread_get_u16(&b, &v16), 0);
	assert_int_equal(v16, 0x1234);
	assert_int_equal(bufread_get_u32(&b, &v32), 0);
	assert_int_equal(v32, 0xdeadbeefu);
	assert_true(bufread_at_end(&b));
	assert_int_equal(bufread_offset(&b), sizeof(in));
}

static void test_bufread_refuses_reads_past_the_end_and_stays_put(void **state)
{
	static const uint8_t in[] = {1, 2, 3};
	struct bufread b;
	const uint8_t *p;
	uint32_t v32 = 7;
	uint16_t v16;

	(void)state;
	bufread_init(&b, in, sizeof(in));
	assert_int_equal(bufread_get_u32(&b, &v32), CER_E_INPUT);
	assert_int_equal(v32, 0);
	assert_int_equal(bufread_offset(&b), 0);
	assert_int_equal(bufread_get_u16(&b, &v16), 0);
	assert_int_equal(bufread_get_u16(&b, &v16), CER_E_INPUT);
	assert_int_equal(bufread_get_bytes(&b, 2, &p), CER_E_INPUT);
	assert_null(p);
	assert_int_equal(bufread_remaining(&b), 1);
	assert_int_equal(bufread_get_bytes(&b, SIZE_MAX, &p), CER_E_INPUT);
	assert_int_equal(bufread_get_bytes(&b, 1, &p), 0);
	assert_ptr_equal(p, in + 2);
	assert_true(bufread_at_end(&b));
}

static void test_bufread_gets_length_prefixed_strings(void **state)
{
	static const uint8_t in[] = {0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0};
	struct bufread b;
	const uint8_t *s;
	size_t n;

	(void)state;
	bufread_init(&b, in, sizeof(in));
	assert_int_equal(bufread_get_string(&b, 3, &s, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(s, "abc", 3);
	assert_int_equal(bufread_get_string(&b, 3, &s, &n), 0);
	assert_int_equal(n, 0);
	assert_true(bufread_at_end(&b));
}

static void test_bufread_refuses_string_above_cap_or_truncated(void **state)
{
	static const uint8_t over[] = {0, 0, 0, 4, 'a', 'b', 'c', 'd'};
	static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 'a'};
	static const uint8_t shortlen[] = {0, 0, 0};
	struct bufread b;
	const uint8_t *s;
	size_t n;

	(void)state;
	bufread_init(&b, over, sizeof(over));
	assert_int_equal(bufread_get_string(&b, 3, &s, &n), CER_E_INPUT);
	assert_int_equal(bufread_offset(&b), 0);
	assert_null(s);
	assert_int_equal(n, 0);
	bufread_init(&b, huge, sizeof(huge));
	assert_int_equal(bufread_get_string(&b, SIZE_MAX, &s, &n), CER_E_INPUT);
	assert_int_equal(bufread_offset(&b), 0);
	bufread_init(&b, shortlen, sizeof(shortlen));
	assert_int_equal(bufread_get_string(&b, 16, &s, &n), CER_E_INPUT);
	assert_int_equal(bufread_offset(&b), 0);
}

static void test_bufread_copies_bytes(void **state)
{
	static const uint8_t in[] = {9, 8, 7};
	uint8_t out[3] = {0};
	struct bufread b;

	(void)state;
	bufread_init(&b, in, sizeof(in));
	assert_int_equal(bufread_copy_bytes(&b, out, 4), CER_E_INPUT);
	assert_int_equal(bufread_copy_bytes(&b, out, 3), 0);
	assert_memory_equal(out, in, 3);
}

static void test_bufread_empty_buffer_is_at_end(void **state)
{
	struct bufread b;
	uint8_t v;

	(void)state;
	bufread_init(&b, NULL, 5);
	assert_true(bufread_at_end(&b));
	assert_int_equal(bufread_get_u8(&b, &v), CER_E_INPUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bufread_reads_big_endian_integers),
		cmocka_unit_test(test_bufread_refuses_reads_past_the_end_and_stays_put),
		cmocka_unit_test(test_bufread_gets_length_prefixed_strings),
		cmocka_unit_test(test_bufread_refuses_string_above_cap_or_truncated),
		cmocka_unit_test(test_bufread_copies_bytes),
		cmocka_unit_test(test_bufread_empty_buffer_is_at_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

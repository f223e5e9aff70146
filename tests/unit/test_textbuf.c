/* Unit tests for textbuf: text that fits is written whole; text that does not fit is
 * refused with a detail naming it, never silently cut (except by text_format_cut). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ceremony/err.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"

static void test_text_format_fits_exactly(void **state)
{
	char out[6];

	(void)state;
	assert_int_equal(text_format(out, sizeof(out), "id", "%s-%d", "ab", 12), 0);
	assert_string_equal(out, "ab-12"); /* 5 bytes and the NUL: exactly full */
}

static void test_text_format_refuses_one_byte_more(void **state)
{
	char out[6] = "old";

	(void)state;
	cer_err_clear();
	assert_int_equal(text_format(out, sizeof(out), "token label", "%s", "abcdef"),
			 CER_E_INPUT);
	assert_string_equal(out, ""); /* no half value left behind */
	assert_string_equal(cer_err_msg(CER_E_INPUT),
			    "token label is too long (6 bytes, at most 5)");
}

static void test_text_copy(void **state)
{
	char out[4];

	(void)state;
	assert_int_equal(text_copy(out, sizeof(out), "x", "abc"), 0);
	assert_string_equal(out, "abc");
	assert_int_equal(text_copy(out, sizeof(out), "x", NULL), 0);
	assert_string_equal(out, "");
	cer_err_clear();
	assert_int_equal(text_copy(out, sizeof(out), "ceremony id", "abcd"), CER_E_INPUT);
	assert_string_equal(out, "");
	assert_non_null(strstr(cer_err_msg(CER_E_INPUT), "ceremony id is too long"));
}

static void test_text_append_keeps_old_text_on_failure(void **state)
{
	char out[8] = "";

	(void)state;
	assert_int_equal(text_append(out, sizeof(out), "roles", "%s", "IW"), 0);
	assert_int_equal(text_append(out, sizeof(out), "roles", ", %s", "KE1"), 0);
	assert_string_equal(out, "IW, KE1"); /* 7 bytes: full */
	cer_err_clear();
	assert_int_equal(text_append(out, sizeof(out), "roles", "%s", "X"), CER_E_INPUT);
	assert_string_equal(out, "IW, KE1");
	assert_string_equal(cer_err_msg(CER_E_INPUT), "roles is too long (more than 7 bytes)");
}

static void test_text_format_cut_says_it_cut(void **state)
{
	char out[4];

	(void)state;
	assert_int_equal(text_format_cut(out, sizeof(out), "%s", "abc"), 0);
	assert_string_equal(out, "abc");
	assert_int_equal(text_format_cut(out, sizeof(out), "%s", "abcdef"), 1);
	assert_string_equal(out, "abc");
}

static void test_sha256_hex_size_holds_a_digest(void **state)
{
	(void)state;
	assert_int_equal(SHA256_LEN, 32);
	assert_int_equal(SHA256_HEX_SIZE, 65);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_format_fits_exactly),
		cmocka_unit_test(test_text_format_refuses_one_byte_more),
		cmocka_unit_test(test_text_copy),
		cmocka_unit_test(test_text_append_keeps_old_text_on_failure),
		cmocka_unit_test(test_text_format_cut_says_it_cut),
		cmocka_unit_test(test_sha256_hex_size_holds_a_digest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for history: an absent folder is an empty history; serials and keys
 * added in memory are found, others not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ceremony/history.h"

static void test_missing_folder_is_empty(void **state)
{
	struct history *h = NULL;
	uint8_t spki[32] = {1};

	(void)state;
	assert_int_equal(history_load("/nonexistent/ceremony-history", &h), 0);
	assert_non_null(h);
	assert_false(history_has_serial(h, "0102"));
	assert_false(history_has_spki(h, spki));
	history_free(h);
}

static void test_added_serials_and_keys_are_found(void **state)
{
	struct history *h = NULL;
	uint8_t a[32], b[32];
	char hex[HISTORY_SERIAL_HEX_MAX];

	(void)state;
	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	assert_int_equal(history_load("/nonexistent/ceremony-history", &h), 0);
	for (int i = 0; i < 3000; i++) {
		snprintf(hex, sizeof(hex), "4%031X", i);
		assert_int_equal(history_add_serial(h, hex), 0);
	}
	assert_true(history_has_serial(h, "40000000000000000000000000000BB8") == 0);
	assert_true(history_has_serial(h, "400000000000000000000000000000FF"));
	assert_true(history_has_serial(h, "40000000000000000000000000000BB7"));
	assert_int_equal(history_add_spki(h, a), 0);
	assert_true(history_has_spki(h, a));
	assert_false(history_has_spki(h, b));
	history_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_folder_is_empty),
		cmocka_unit_test(test_added_serials_and_keys_are_found),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

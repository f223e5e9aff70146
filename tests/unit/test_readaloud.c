/* Unit tests for readaloud: the PGP word list and the two-line comparison text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <sodium.h>

#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/readaloud.h"

/*
 * /work/shared/vectors/README.md: SHA-256 of the even words joined by
 * newlines, a newline, then the odd words joined by newlines = e9b7b005…b9ac62.
 * The README gives only this prefix and suffix, so both are compared.
 */
#define TABLE_SHA256_PREFIX "e9b7b005"
#define TABLE_SHA256_SUFFIX "b9ac62"

static void test_readaloud_table_matches_published_hash(void **state)
{
	crypto_hash_sha256_state h;
	uint8_t md[crypto_hash_sha256_BYTES];
	char hex[2 * sizeof(md) + 1];

	(void)state;
	assert_int_equal(sodium_init() < 0, 0);
	crypto_hash_sha256_init(&h);
	for (size_t pos = 0; pos < 2; pos++) {
		for (unsigned b = 0; b < 256; b++) {
			const char *w = readaloud_word((uint8_t)b, pos);
			if (pos == 1 || b > 0)
				crypto_hash_sha256_update(&h, (const uint8_t *)"\n", 1);
			crypto_hash_sha256_update(&h, (const uint8_t *)w, strlen(w));
		}
	}
	crypto_hash_sha256_final(&h, md);
	hex_encode(md, sizeof(md), hex);
	assert_memory_equal(hex, TABLE_SHA256_PREFIX, strlen(TABLE_SHA256_PREFIX));
	assert_string_equal(hex + strlen(hex) - strlen(TABLE_SHA256_SUFFIX), TABLE_SHA256_SUFFIX);
}

static void test_readaloud_table_has_the_corrected_words(void **state)
{
	(void)state;
	/* copies in circulation have "basalt" here */
	assert_string_equal(readaloud_word(0x17, 0), "banjo");
	assert_string_equal(readaloud_word(0x17, 1), "bookseller");
}

static void test_readaloud_table_words_are_distinct_and_short(void **state)
{
	(void)state;
	for (unsigned a = 0; a < 512; a++) {
		const char *wa = readaloud_word((uint8_t)a, a / 256);
		assert_true(strlen(wa) >= 2 && strlen(wa) <= READALOUD_WORD_MAX);
		for (unsigned b = a + 1; b < 512; b++)
			assert_true(strcasecmp(wa, readaloud_word((uint8_t)b, b / 256)) != 0);
	}
}

static void test_readaloud_known_bytes_give_known_words(void **state)
{
	/* rows of pgp-wordlist.tsv */
	static const struct {
		uint8_t byte;
		const char *even, *odd;
	} rows[] = {
		{0x00, "aardvark", "adroitness"}, {0x07, "ahead", "amusement"},
		{0x41, "cranky", "decadence"},    {0x7f, "lockup", "integrate"},
		{0x80, "merit", "intention"},     {0x9b, "puppy", "Norwegian"},
		{0xde, "tactics", "telephone"},   {0xff, "Zulu", "Yucatan"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_string_equal(readaloud_word(rows[i].byte, 0), rows[i].even);
		assert_string_equal(readaloud_word(rows[i].byte, 2), rows[i].even);
		assert_string_equal(readaloud_word(rows[i].byte, 1), rows[i].odd);
		assert_string_equal(readaloud_word(rows[i].byte, 63), rows[i].odd);
	}
}

static void test_readaloud_words_alternate_even_and_odd_lists(void **state)
{
	static const uint8_t d[] = {0x9b, 0x41, 0x07, 0xde, 0xff, 0xff, 0x00, 0x00};
	char out[128];

	(void)state;
	assert_int_equal(readaloud_words(d, sizeof(d), READALOUD_WORDS_ALL, out, sizeof(out)), 0);
	assert_string_equal(out,
			    "puppy decadence ahead telephone Zulu Yucatan aardvark adroitness");
	/* the same byte twice in a row reads as two different words */
	assert_int_equal(readaloud_words(d + 4, 2, 2, out, sizeof(out)), 0);
	assert_string_equal(out, "Zulu Yucatan");
	assert_int_equal(readaloud_words(d, sizeof(d), 3, out, sizeof(out)), 0);
	assert_string_equal(out, "puppy decadence ahead");
	assert_int_equal(readaloud_words(d, 1, 8, out, sizeof(out)), 0);
	assert_string_equal(out, "puppy");
}

static void test_readaloud_refuses_small_buffer_without_partial_text(void **state)
{
	static const uint8_t d[] = {0x9b, 0x41, 0x07, 0xde};
	const char *want = "puppy decadence ahead telephone";
	char out[64];

	(void)state;
	for (size_t size = 1; size <= strlen(want); size++) {
		memset(out, 'x', sizeof(out));
		assert_int_equal(readaloud_words(d, sizeof(d), 4, out, size), CER_E_INTERNAL);
		assert_int_equal(out[0], '\0');
		for (size_t i = 1; i < sizeof(out); i++)
			assert_int_equal(out[i], 'x');
	}
	assert_int_equal(readaloud_words(d, sizeof(d), 4, out, strlen(want) + 1), 0);
	assert_string_equal(out, want);
}

static void test_readaloud_refuses_bad_arguments(void **state)
{
	uint8_t big[READALOUD_DIGEST_MAX + 1] = {0};
	char out[2048];

	(void)state;
	assert_int_equal(readaloud_words(big, 0, 8, out, sizeof(out)), CER_E_INPUT);
	assert_int_equal(readaloud_words(NULL, 4, 8, out, sizeof(out)), CER_E_INPUT);
	assert_int_equal(readaloud_words(big, sizeof(big), 8, out, sizeof(out)), CER_E_INPUT);
	assert_int_equal(readaloud_words(big, 4, 0, out, sizeof(out)), CER_E_INPUT);
	assert_int_equal(readaloud_words(big, 4, 8, NULL, 0), CER_E_INTERNAL);
	assert_int_equal(readaloud_format(big, sizeof(big), 8, out, sizeof(out)), CER_E_INPUT);
	assert_string_equal(out, "");
	assert_int_equal(readaloud_format(big, READALOUD_DIGEST_MAX, READALOUD_WORDS_ALL, out,
					  sizeof(out)),
			 0);
}

static void test_readaloud_format_shows_full_hex_then_first_words(void **state)
{
	uint8_t d[32];
	char out[512], hex[81];

	(void)state;
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(0x9b + 0x11 * i);
	memcpy(d, "\x9b\x41\x07\xde\x55\xaa\x3c\x10", 8);
	assert_int_equal(readaloud_format(d, sizeof(d), READALOUD_WORDS_DEFAULT, out, sizeof(out)),
			 0);
	hex_encode_grouped(d, sizeof(d), hex);
	assert_memory_equal(out, "9b41 07de 55aa 3c10 ", 20);
	assert_memory_equal(out, hex, strlen(hex));
	assert_string_equal(out + strlen(hex),
			    "\n  read aloud: \"puppy decadence ahead telephone edict pedigree "
			    "cobra autopsy\" (first 8 of 32 bytes)");
}

static void test_readaloud_format_groups_hex_by_four_digits(void **state)
{
	static const uint8_t d[] = {0x01, 0x23, 0x45, 0x67, 0x89};
	char out[256];

	(void)state;
	assert_int_equal(readaloud_format(d, sizeof(d), READALOUD_WORDS_ALL, out, sizeof(out)), 0);
	assert_memory_equal(out, "0123 4567 89\n", 13);
	/* all bytes covered: no "first N of" note */
	assert_null(strstr(out, "first"));
	assert_int_equal(out[strlen(out) - 1], '"');
}

static void test_readaloud_format_refuses_small_buffer(void **state)
{
	static const uint8_t d[] = {0x9b, 0x41, 0x07, 0xde};
	const char *want = "9b41 07de\n  read aloud: \"puppy decadence ahead telephone\"";
	char out[128];

	(void)state;
	assert_int_equal(readaloud_format(d, sizeof(d), 4, out, sizeof(out)), 0);
	assert_string_equal(out, want);
	for (size_t size = 1; size <= strlen(want); size++) {
		memset(out, 'x', sizeof(out));
		assert_int_equal(readaloud_format(d, sizeof(d), 4, out, size), CER_E_INTERNAL);
		assert_int_equal(out[0], '\0');
		assert_int_equal(out[1], 'x');
	}
	assert_int_equal(readaloud_format(d, sizeof(d), 4, out, strlen(want) + 1), 0);
	assert_string_equal(out, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readaloud_table_matches_published_hash),
		cmocka_unit_test(test_readaloud_table_has_the_corrected_words),
		cmocka_unit_test(test_readaloud_table_words_are_distinct_and_short),
		cmocka_unit_test(test_readaloud_known_bytes_give_known_words),
		cmocka_unit_test(test_readaloud_words_alternate_even_and_odd_lists),
		cmocka_unit_test(test_readaloud_refuses_small_buffer_without_partial_text),
		cmocka_unit_test(test_readaloud_refuses_bad_arguments),
		cmocka_unit_test(test_readaloud_format_shows_full_hex_then_first_words),
		cmocka_unit_test(test_readaloud_format_groups_hex_by_four_digits),
		cmocka_unit_test(test_readaloud_format_refuses_small_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the backup blob format: round trip, commitments, every truncation and flip refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ceremony/backupblob.h"
#include "ceremony/err.h"
#include "ceremony/secret.h"

static const uint8_t kek[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t spki[] = {0x30, 0x03, 0x02, 0x01, 0x00};
static const uint8_t wrapped[40] = {0xaa, 0xbb};
static const uint8_t share[42] = {0x11, 0x22, 0x33};

static void make_blob(uint8_t **out, size_t *len)
{
	struct backupblob *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	memset(b->backup_id, 0x42, sizeof(b->backup_id));
	b->key_type = KEY_EC_P384;
	strcpy(b->root_label, "root-2026");
	memset(b->root_id, 0x07, 16);
	b->root_id_len = 16;
	b->spki = spki;
	b->spki_len = sizeof(spki);
	strcpy(b->root_serial, "0123456789abcdef");
	b->mechanism = 0x210A;
	b->kat = 2;
	memset(b->salt, 0x5a, sizeof(b->salt));
	assert_int_equal(backupblob_kek_commitment(kek, b->salt, b->kek_commitment), 0);
	b->slip39_id = 1234;
	b->share_count = 3;
	for (size_t i = 0; i < 3; i++) {
		b->shares[i].member_index = (uint8_t)i;
		assert_int_equal(backupblob_share_commitment(b->salt, b->backup_id, 0, (uint8_t)i,
							     share, sizeof(share),
							     b->shares[i].commitment),
				 0);
	}
	b->wrapped = wrapped;
	b->wrapped_len = sizeof(wrapped);
	assert_int_equal(backupblob_encode(b, kek, out, len), 0);
	free(b);
}

static void test_backupblob_round_trips_and_checks_kek_and_shares(void **state)
{
	struct backupblob *p = calloc(1, sizeof(*p));
	uint8_t *buf, other[32];
	size_t len;

	(void)state;
	make_blob(&buf, &len);
	assert_int_equal(backupblob_parse(buf, len, "blob", p), 0);
	assert_string_equal(p->root_label, "root-2026");
	assert_int_equal(p->key_type, KEY_EC_P384);
	assert_int_equal(p->share_count, 3);
	assert_int_equal(p->wrapped_len, sizeof(wrapped));
	assert_memory_equal(p->spki, spki, sizeof(spki));
	assert_int_equal(backupblob_check_kek(p, kek), 0);
	memcpy(other, kek, 32);
	other[31] ^= 1;
	assert_int_equal(backupblob_check_kek(p, other), CER_E_VERIFY);
	assert_int_equal(backupblob_check_share(p, 0, 1, share, sizeof(share)), 0);
	uint8_t bad[42];
	memcpy(bad, share, sizeof(bad));
	bad[10] ^= 0x80;
	assert_int_equal(backupblob_check_share(p, 0, 1, bad, sizeof(bad)), CER_E_VERIFY);
	assert_int_equal(backupblob_check_share(p, 0, 7, share, sizeof(share)), CER_E_NOTFOUND);
	free(buf);
	free(p);
}

static void test_backupblob_refuses_every_truncation(void **state)
{
	struct backupblob *p = calloc(1, sizeof(*p));
	uint8_t *buf;
	size_t len;

	(void)state;
	make_blob(&buf, &len);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(backupblob_parse(buf, n, "blob", p), CER_E_INPUT);
	free(buf);
	free(p);
}

static void test_backupblob_refuses_every_single_bit_flip(void **state)
{
	struct backupblob *p = calloc(1, sizeof(*p));
	uint8_t *buf;
	size_t len;

	(void)state;
	make_blob(&buf, &len);
	for (size_t i = 0; i < len; i++)
		for (int bit = 0; bit < 8; bit++) {
			buf[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(backupblob_parse(buf, len, "blob", p), CER_E_INPUT);
			buf[i] ^= (uint8_t)(1u << bit);
		}
	assert_int_equal(backupblob_parse(buf, len, "blob", p), 0);
	free(buf);
	free(p);
}

/* A blob whose checksum was recomputed after a change still fails the KEK's MAC. */
static void test_backupblob_mac_catches_a_change_with_a_fixed_checksum(void **state)
{
	struct backupblob *p = calloc(1, sizeof(*p));
	uint8_t *buf;
	size_t len;

	(void)state;
	make_blob(&buf, &len);
	buf[len - 64 - 5] ^= 1; /* inside the wrapped key */
	crypto_hash_sha256(buf + len - 32, buf, len - 32);
	assert_int_equal(backupblob_parse(buf, len, "blob", p), 0);
	assert_int_equal(backupblob_check_kek(p, kek), CER_E_VERIFY);
	free(buf);
	free(p);
}

static void test_backupblob_refuses_trailing_bytes(void **state)
{
	struct backupblob *p = calloc(1, sizeof(*p));
	uint8_t *buf, *big;
	size_t len;

	(void)state;
	make_blob(&buf, &len);
	big = calloc(1, len + 1);
	memcpy(big, buf, len - 32);
	big[len - 32] = 0; /* one extra byte before the checksum */
	memcpy(big + len - 31, buf + len - 64, 32);
	crypto_hash_sha256(big + len + 1 - 32, big, len + 1 - 32);
	assert_int_equal(backupblob_parse(big, len + 1, "blob", p), CER_E_INPUT);
	free(big);
	free(buf);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backupblob_round_trips_and_checks_kek_and_shares),
		cmocka_unit_test(test_backupblob_refuses_every_truncation),
		cmocka_unit_test(test_backupblob_refuses_every_single_bit_flip),
		cmocka_unit_test(test_backupblob_mac_catches_a_change_with_a_fixed_checksum),
		cmocka_unit_test(test_backupblob_refuses_trailing_bytes),
	};
	if (secret_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for fileio: atomic creation without overwrite, bounded reads, hashes,
 * folder listings that follow no link, copies and mkdir -p. Real files in a
 * private temporary folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ceremony/err.h"
#include "ceremony/fileio.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ceremony-fileio.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, size_t size, const char *name)
{
	assert_true(snprintf(out, size, "%s/%s", dir, name) < (int)size);
}

static size_t entries(void)
{
	char **names = NULL;
	size_t n = 0;
	assert_int_equal(file_list_dir(dir, "", 1000, &names, &n), 0);
	file_names_free(names);
	return n;
}

static void test_write_new_creates_and_never_overwrites(void **state)
{
	char p[128];
	uint8_t *data = NULL;
	size_t len = 0;

	(void)state;
	path_of(p, sizeof(p), "a.txt");
	assert_int_equal(file_write_new(p, "first", 5), 0);
	assert_int_equal(file_write_new(p, "second", 6), CER_E_EXISTS);
	assert_int_equal(file_read_all(p, 100, &data, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "first", 5);
	assert_int_equal(data[5], 0); /* NUL-terminated */
	free(data);
	assert_int_equal(entries(), 1); /* no temporary file left behind */
	assert_int_equal(file_check_new(p), CER_E_EXISTS);
}

static void test_read_all_is_bounded(void **state)
{
	char p[128];
	uint8_t *data = NULL;
	size_t len = 0;

	(void)state;
	path_of(p, sizeof(p), "big.txt");
	assert_int_equal(file_write_new(p, "0123456789", 10), 0);
	assert_int_equal(file_read_all(p, 9, &data, &len), CER_E_INPUT);
	assert_null(data);
	assert_int_equal(file_read_all(p, 10, &data, &len), 0);
	free(data);
	path_of(p, sizeof(p), "missing.txt");
	assert_int_not_equal(file_read_all(p, 10, &data, &len), 0);
}

static void test_sha256_of_a_file(void **state)
{
	/* SHA-256("abc"), FIPS 180-2 appendix B.1 */
	static const uint8_t want[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
					 0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
					 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
	char p[128];
	uint8_t md[32];

	(void)state;
	path_of(p, sizeof(p), "abc.txt");
	assert_int_equal(file_write_new(p, "abc", 3), 0);
	assert_int_equal(file_sha256(p, md), 0);
	assert_memory_equal(md, want, 32);
}

static void test_append_sync_appends(void **state)
{
	char p[128];
	uint8_t *data = NULL;
	size_t len = 0;

	(void)state;
	path_of(p, sizeof(p), "log.jsonl");
	assert_int_equal(file_append_sync(p, "one\n", 4), 0);
	assert_int_equal(file_append_sync(p, "two\n", 4), 0);
	assert_int_equal(file_read_all(p, 100, &data, &len), 0);
	assert_string_equal((char *)data, "one\ntwo\n");
	free(data);
}

static void test_list_dir_sorted_regular_files_only(void **state)
{
	char p[128], q[128], **names = NULL;
	size_t n = 0;

	(void)state;
	path_of(p, sizeof(p), "b.jsonl");
	assert_int_equal(file_write_new(p, "", 0), 0);
	path_of(p, sizeof(p), "a.jsonl");
	assert_int_equal(file_write_new(p, "", 0), 0);
	path_of(p, sizeof(p), "c.txt");
	assert_int_equal(file_write_new(p, "", 0), 0);
	path_of(p, sizeof(p), ".hidden.jsonl");
	assert_int_equal(file_write_new(p, "", 0), 0);
	path_of(p, sizeof(p), "sub.jsonl");
	assert_int_equal(mkdir(p, 0700), 0);
	path_of(p, sizeof(p), "link.jsonl");
	path_of(q, sizeof(q), "a.jsonl");
	assert_int_equal(symlink(q, p), 0);
	path_of(p, sizeof(p), "fifo.jsonl");
	assert_int_equal(mkfifo(p, 0600), 0);

	assert_int_equal(file_list_dir(dir, ".jsonl", 100, &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "a.jsonl");
	assert_string_equal(names[1], "b.jsonl");
	assert_null(names[2]);
	file_names_free(names);
	assert_int_equal(file_list_dir(dir, ".jsonl", 1, &names, &n), CER_E_INPUT);
	assert_null(names);
	path_of(p, sizeof(p), "nope");
	assert_int_equal(file_list_dir(p, "", 10, &names, &n), CER_E_NOTFOUND);
}

static void test_copy_new_refuses_what_is_not_a_regular_file(void **state)
{
	char src[128], dst[128], fifo[128];
	uint8_t *data = NULL;
	size_t len = 0;

	(void)state;
	path_of(src, sizeof(src), "src.bin");
	path_of(dst, sizeof(dst), "dst.bin");
	path_of(fifo, sizeof(fifo), "pipe");
	assert_int_equal(file_write_new(src, "payload", 7), 0);
	assert_int_equal(file_copy_new(src, dst, 100), 0);
	assert_int_equal(file_read_all(dst, 100, &data, &len), 0);
	assert_memory_equal(data, "payload", 7);
	free(data);
	assert_int_equal(file_copy_new(src, dst, 100), CER_E_EXISTS);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	path_of(dst, sizeof(dst), "from-fifo.bin"); /* would block forever if opened */
	assert_int_equal(file_copy_new(fifo, dst, 100), CER_E_INPUT);
	assert_false(file_exists(dst));
}

static void test_mkdirs_nested_and_existing(void **state)
{
	char p[128];
	struct stat st;

	(void)state;
	path_of(p, sizeof(p), "x/y/z");
	assert_int_equal(file_mkdirs(p, 0700), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(file_mkdirs(p, 0700), 0);
	assert_int_equal(file_sync_dir(p), 0);
}

static void test_stale_temps_only_ours_and_only_older(void **state)
{
	char p[128], q[128], keep[128], fresh[128];
	struct timespec before;
	size_t removed = 0;

	(void)state;
	assert_true(file_is_write_temp("root.pem.tmp-0123456789ab"));
	assert_true(file_is_write_temp("a.tmp-x.tmp-abcdefabcdef"));
	assert_false(file_is_write_temp(".tmp-0123456789ab"));
	assert_false(file_is_write_temp("a.tmp-0123456789AB"));
	assert_false(file_is_write_temp("a.tmp-0123456789a"));
	assert_false(file_is_write_temp("a.tmp-0123456789abc"));
	assert_false(file_is_write_temp("a.pem"));
	path_of(p, sizeof(p), "sub");
	assert_int_equal(file_mkdirs(p, 0700), 0);
	path_of(p, sizeof(p), "sub/x.pem.tmp-0123456789ab");
	path_of(q, sizeof(q), "y.tmp-abcdef012345");
	path_of(keep, sizeof(keep), "y.tmp-abcdef01234");
	assert_int_equal(file_write_new(p, "a", 1), 0);
	assert_int_equal(file_write_new(q, "b", 1), 0);
	assert_int_equal(file_write_new(keep, "c", 1), 0);
	assert_int_equal(clock_gettime(CLOCK_REALTIME, &before), 0);
	before.tv_sec += 1; /* all three are older than this instant */
	path_of(fresh, sizeof(fresh), "z.tmp-0123456789ab");
	assert_int_equal(file_remove_stale_temps(dir, &before, NULL, &removed), 0);
	assert_int_equal(removed, 2);
	assert_int_not_equal(access(p, F_OK), 0);
	assert_int_not_equal(access(q, F_OK), 0);
	assert_int_equal(access(keep, F_OK), 0);
	/* A temporary file newer than the instant (another writer's, still at work) stays. */
	before.tv_sec -= 120;
	assert_int_equal(file_write_new(fresh, "d", 1), 0);
	removed = 0;
	assert_int_equal(file_remove_stale_temps(dir, &before, NULL, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(access(fresh, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_new_creates_and_never_overwrites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_all_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sha256_of_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_sync_appends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_dir_sorted_regular_files_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_new_refuses_what_is_not_a_regular_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdirs_nested_and_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_temps_only_ours_and_only_older, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

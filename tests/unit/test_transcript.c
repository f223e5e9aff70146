/* Unit tests of the transcript chain: append, reopen, verify, tamper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ceremony/archive.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/secret.h"
#include "ceremony/transcript.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cer-unit-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	/* The archive is dir: the folder holding the transcripts' folder. */
	snprintf(path, sizeof(path), "%s/transcripts", dir);
	if (mkdir(path, 0700) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/transcripts/t.jsonl", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void write_records(int n)
{
	struct transcript *t = NULL;
	long seq = 0;

	assert_int_equal(transcript_open(path, "unit", &t), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(transcript_append(t, "test.step", NULL, NULL,
						   json_pack("{s:i}", "i", i), &seq),
				 0);
	assert_true(seq >= n);
	transcript_close(t);
}

static int count_cb(void *arg, long line, json_t *rec)
{
	long *n = arg;
	assert_int_equal(json_integer_value(json_object_get(rec, "seq")), line);
	assert_string_equal(json_string_value(json_object_get(rec, "ceremony")), "unit");
	(*n)++;
	return 0;
}

static void test_transcript_appends_a_verifiable_chain(void **state)
{
	long n = 0;
	(void)state;
	write_records(3);
	write_records(2); /* reopening continues the chain */
	assert_int_equal(transcript_each(path, count_cb, &n), 0);
	assert_int_equal(n, 6); /* ceremony.begin and five records */
}

static void rewrite(const char *from, const char *to)
{
	uint8_t *data = NULL;
	size_t len = 0;
	char *hit;
	FILE *f;

	assert_int_equal(file_read_all(path, 1 << 20, &data, &len), 0);
	hit = strstr((char *)data, from);
	assert_non_null(hit);
	memcpy(hit, to, strlen(to));
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	free(data);
}

static void test_transcript_rejects_changed_byte(void **state)
{
	(void)state;
	write_records(3);
	rewrite("\"i\":1", "\"i\":7");
	assert_int_equal(transcript_each(path, NULL, NULL), CER_E_VERIFY);
	assert_non_null(strstr(cer_err_msg(0), "line 4: prev does not match"));
}

static void test_transcript_refuses_to_append_to_a_broken_chain(void **state)
{
	struct transcript *t = NULL;
	(void)state;
	write_records(2);
	rewrite("\"i\":0", "\"i\":5");
	assert_int_not_equal(transcript_open(path, NULL, &t), 0);
	assert_null(t);
	assert_non_null(strstr(cer_err_msg(0), "refusing to append"));
}

static void test_transcript_rejects_swapped_lines(void **state)
{
	(void)state;
	write_records(3);
	rewrite("\"seq\":2", "\"seq\":9");
	assert_int_equal(transcript_each(path, NULL, NULL), CER_E_VERIFY);
	assert_non_null(strstr(cer_err_msg(0), "line 2: seq is 9, expected 2"));
}

static void test_transcript_rejects_a_missing_newline(void **state)
{
	FILE *f;
	(void)state;
	write_records(1);
	f = fopen(path, "a");
	fputs("{\"seq\":2}", f);
	fclose(f);
	assert_int_equal(transcript_each(path, NULL, NULL), CER_E_INPUT);
	assert_non_null(strstr(cer_err_msg(0), "line 3: incomplete"));
}

static void test_transcript_rejects_duplicate_keys(void **state)
{
	FILE *f;
	(void)state;
	f = fopen(path, "w");
	fputs("{\"seq\":1,\"seq\":1,\"prev\":\"00\"}\n", f);
	fclose(f);
	assert_int_equal(transcript_each(path, NULL, NULL), CER_E_VERIFY);
	assert_non_null(strstr(cer_err_msg(0), "line 1: not a JSON record"));
}

static int begin_cb(void *arg, long line, json_t *rec)
{
	const char **prev_path = arg;
	json_t *prev = json_object_get(json_object_get(rec, "details"), "previous");
	if (line == 1) {
		assert_string_equal(json_string_value(json_object_get(rec, "action")), "ceremony.begin");
		*prev_path = json_is_null(prev) ? NULL : strdup(json_string_value(json_object_get(prev, "path")));
	}
	return 0;
}

static void test_transcript_names_the_previous_sealed_ceremony(void **state)
{
	struct transcript *t = NULL;
	char sig[160], next[160];
	const char *prev = "x";
	(void)state;
	write_records(1);
	snprintf(next, sizeof(next), "%s/transcripts/next.jsonl", dir);
	assert_int_equal(transcript_open_after(next, "n", path, &t), CER_E_REFUSED); /* not sealed */
	snprintf(sig, sizeof(sig), "%s.sig", path);
	assert_int_equal(file_write_new(sig, "x", 1), 0);
	assert_int_equal(transcript_open_after(next, "n", path, &t), 0);
	assert_int_equal(transcript_append(t, "test.step", NULL, NULL, NULL, NULL), 0);
	transcript_close(t);
	assert_int_equal(transcript_each(next, begin_cb, &prev), 0);
	assert_non_null(prev);
	assert_string_equal(prev, "transcripts/t.jsonl"); /* relative to the archive */
	free((void *)prev);
}

static void test_transcript_refuses_a_sealed_file(void **state)
{
	struct transcript *t = NULL;
	char sig[160];
	(void)state;
	write_records(1);
	snprintf(sig, sizeof(sig), "%s.sig", path);
	assert_int_equal(file_write_new(sig, "x", 1), 0);
	assert_int_equal(transcript_open(path, NULL, &t), CER_E_REFUSED);
}

static void test_transcript_records_relative_paths(void **state)
{
	struct transcript *t = NULL;
	json_t *e = NULL;
	char out[160];
	(void)state;
	snprintf(out, sizeof(out), "%s/out.pem", dir);
	assert_int_equal(file_write_new(out, "abc", 3), 0);
	assert_int_equal(transcript_open(path, NULL, &t), 0);
	assert_int_equal(transcript_file_entry(t, out, &e), 0);
	assert_string_equal(json_string_value(json_object_get(e, "path")), "out.pem");
	assert_null(json_object_get(e, "outside_archive"));
	/* SHA-256("abc") */
	assert_string_equal(json_string_value(json_object_get(e, "sha256")),
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	json_decref(e);
	transcript_close(t);
}

/* Issue 10.7: recorded paths are relative to the archive; outside it, a name and a flag;
 * a hostile path is refused by name; an auditor's view finds a relocated copy. */
static void test_archive_paths(void **state)
{
	struct transcript *t = NULL;
	struct archive_view view;
	char other[64], file[160], got[PATH_MAX], want[PATH_MAX], folder[] = "out=";
	char arg[200];
	json_t *e = NULL;
	(void)state;
	assert_true(archive_path_valid("out/root.pem"));
	assert_true(archive_path_valid("a..b/c"));
	assert_false(archive_path_valid("/etc/passwd"));
	assert_false(archive_path_valid("../other/root.pem"));
	assert_false(archive_path_valid("out/../../x"));
	assert_false(archive_path_valid("out//x"));
	assert_false(archive_path_valid("./x"));
	assert_false(archive_path_valid(""));
	assert_false(archive_path_valid("out/\x1b[2Jx"));
	assert_false(archive_path_valid("out/a\nb"));

	snprintf(other, sizeof(other), "/tmp/cer-unit-other-XXXXXX");
	assert_non_null(mkdtemp(other));
	snprintf(file, sizeof(file), "%s/factory.csr", other);
	assert_int_equal(file_write_new(file, "abc", 3), 0);
	assert_int_equal(transcript_open(path, NULL, &t), 0);
	assert_int_equal(transcript_file_entry(t, file, &e), 0);
	assert_string_equal(json_string_value(json_object_get(e, "path")), "factory.csr");
	assert_true(json_is_true(json_object_get(e, "outside_archive")));
	transcript_close(t);

	assert_int_equal(archive_resolve(NULL, path, 3, "../x.pem", 0, got), CER_E_VERIFY);
	assert_non_null(strstr(cer_err_msg(CER_E_VERIFY), "line 3"));
	assert_int_equal(archive_resolve(NULL, path, 0, "/etc/passwd", 0, got), CER_E_VERIFY);
	assert_int_equal(archive_resolve_entry(NULL, path, 0, e, got), CER_E_NOTFOUND);
	memset(&view, 0, sizeof(view));
	view.outside[view.n_outside++] = other;
	assert_int_equal(archive_resolve_entry(&view, path, 0, e, got), 0);
	assert_string_equal(got, file);
	json_decref(e);

	/* the default: relative to the folder holding the transcripts' folder */
	assert_int_equal(archive_resolve(NULL, path, 0, "out/root.pem", 0, got), 0);
	snprintf(want, sizeof(want), "%s/out/root.pem", dir);
	assert_string_equal(got, want);
	/* a copy laid out differently: out/... is found in the folder given */
	snprintf(arg, sizeof(arg), "%s%s", folder, other);
	assert_int_equal(archive_view_add_folder(&view, arg), 0);
	assert_int_equal(archive_resolve(&view, path, 0, "out/factory.csr", 0, got), 0);
	assert_string_equal(got, file);
	snprintf(arg, sizeof(arg), "../x=%s", other);
	assert_int_equal(archive_view_add_folder(&view, arg), CER_E_USAGE);
	assert_int_equal(unlink(file), 0);
	assert_int_equal(rmdir(other), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_transcript_appends_a_verifiable_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transcript_rejects_changed_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transcript_refuses_to_append_to_a_broken_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transcript_rejects_swapped_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transcript_rejects_a_missing_newline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transcript_rejects_duplicate_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transcript_refuses_a_sealed_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transcript_names_the_previous_sealed_ceremony, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transcript_records_relative_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archive_paths, setup, teardown),
	};
	if (secret_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of the history's hashed lookups and its per-transcript index (cache). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/history.h"
#include "ceremony/secret.h"
#include "ceremony/transcript.h"

static char dir[64], cache[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cer-hist-XXXXXX");
	snprintf(cache, sizeof(cache), "/tmp/cer-cache-XXXXXX");
	if (mkdtemp(dir) == NULL || mkdtemp(cache) == NULL)
		return -1;
	return setenv("XDG_CACHE_HOME", cache, 1);
}

static int teardown(void **state)
{
	char cmd[200];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, cache);
	return system(cmd);
}

/* 20,000 serials and keys: every one found, case-insensitively; none invented. */
static void test_lookups(void **state)
{
	struct history *h = calloc(1, sizeof(*h));
	char hex[HISTORY_SERIAL_HEX_MAX];
	uint8_t spki[32];

	(void)state;
	assert_non_null(h);
	for (int i = 0; i < 20000; i++) {
		snprintf(hex, sizeof(hex), "7A%08X", (unsigned)i * 2654435761u);
		memset(spki, 0, sizeof(spki));
		memcpy(spki + 28, &i, sizeof(i));
		assert_int_equal(history_add_serial(h, hex), 0);
		assert_int_equal(history_add_spki(h, spki), 0);
		assert_int_equal(history_add_serial(h, hex), 0); /* a duplicate is not added */
	}
	assert_int_equal(h->n_serials, 20000);
	assert_int_equal(h->n_spki, 20000);
	for (int i = 0; i < 20000; i++) {
		snprintf(hex, sizeof(hex), "7a%08x", (unsigned)i * 2654435761u);
		assert_true(history_has_serial(h, hex));
		memset(spki, 0, sizeof(spki));
		memcpy(spki + 28, &i, sizeof(i));
		assert_true(history_has_spki(h, spki));
	}
	assert_false(history_has_serial(h, "7B00000000"));
	memset(spki, 0xee, sizeof(spki));
	assert_false(history_has_spki(h, spki));
	history_free(h);
}

static void write_issue(struct transcript *t, const char *serial, char c)
{
	char spki[65];
	memset(spki, c, 64);
	spki[64] = '\0';
	assert_int_equal(transcript_append(t, "cert.issue", NULL, NULL,
					   json_pack("{s:{s:s, s:s}}", "certificate", "serial",
						     serial, "spki_sha256", spki),
					   NULL),
			 0);
}

static int count_cache_entries(void)
{
	char cmd[200];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls %s/ceremony/history 2>/dev/null | wc -l", cache);
	p = popen(cmd, "r");
	if (p == NULL || fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p != NULL)
		pclose(p);
	return n;
}

/* A sealed transcript gets an index entry; the entry gives the same answers; a
 * changed transcript is read again; a corrupt entry is ignored. */
static void test_index(void **state)
{
	struct transcript *t = NULL;
	struct history *h = NULL;
	char path[128], sig[140], entry[512];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/a.jsonl", dir);
	snprintf(sig, sizeof(sig), "%s.sig", path);
	assert_int_equal(transcript_open(path, "unit", &t), 0);
	write_issue(t, "01AB", 'a');
	write_issue(t, "02CD", 'b');
	transcript_close(t);

	assert_int_equal(history_load(dir, &h), 0);
	assert_true(history_has_serial(h, "01ab"));
	history_free(h);
	assert_int_equal(count_cache_entries(), 0); /* not sealed: no entry */

	f = fopen(sig, "w"); /* history only looks at whether it is sealed */
	assert_non_null(f);
	fclose(f);
	assert_int_equal(history_load(dir, &h), 0);
	history_free(h);
	assert_int_equal(count_cache_entries(), 1);
	assert_int_equal(history_load(dir, &h), 0); /* from the entry */
	assert_true(history_has_serial(h, "02cd"));
	assert_int_equal(h->n_serials, 2);
	assert_int_equal(h->n_spki, 2);
	assert_false(history_has_serial(h, "03EF"));
	history_free(h);

	/* The transcript changes: its new bytes are read, not the old entry. */
	unlink(sig);
	assert_int_equal(transcript_open(path, NULL, &t), 0);
	write_issue(t, "03EF", 'c');
	transcript_close(t);
	f = fopen(sig, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(history_load(dir, &h), 0);
	assert_true(history_has_serial(h, "03ef"));
	history_free(h);
	assert_int_equal(count_cache_entries(), 2);

	/* Corrupt every entry: they are ignored and the transcript parsed. */
	snprintf(entry, sizeof(entry), "for e in %s/ceremony/history/*.json; do echo '{' > $e; done",
		 cache);
	assert_int_equal(system(entry), 0);
	assert_int_equal(history_load(dir, &h), 0);
	assert_int_equal(h->n_serials, 3);
	history_free(h);

	/* A broken chain is still refused, entry or not. */
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("{\"seq\":9}\n", f);
	fclose(f);
	assert_int_not_equal(history_load(dir, &h), 0);
	assert_null(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),
		cmocka_unit_test_setup_teardown(test_index, setup, teardown),
	};
	if (secret_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

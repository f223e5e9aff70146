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

#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/history.h"
#include "ceremony/lint.h"
#include "ceremony/quorum.h"
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

	/* Corrupt every entry: they are ignored, the transcript parsed, the entry replaced. */
	snprintf(entry, sizeof(entry),
		 "n=0; for e in %s/ceremony/history/*; do printf 'CERHIX03' > $e; n=$((n+1)); done; "
		 "test $n = 2",
		 cache);
	assert_int_equal(system(entry), 0);
	assert_int_equal(history_load(dir, &h), 0);
	assert_int_equal(h->n_serials, 3);
	history_free(h);
	snprintf(entry, sizeof(entry),
		 "test $(find %s/ceremony/history -type f -size +100c | wc -l) = 1", /* the current one */
		 cache);
	assert_int_equal(system(entry), 0);
	/* One flipped byte inside an entry: its own hash no longer matches, it is ignored. */
	snprintf(entry, sizeof(entry),
		 "for e in %s/ceremony/history/*; do printf 'Z' | dd of=$e bs=1 seek=60 conv=notrunc "
		 "status=none; done",
		 cache);
	assert_int_equal(system(entry), 0);
	assert_int_equal(history_load(dir, &h), 0);
	assert_int_equal(h->n_serials, 3);
	assert_true(history_has_serial(h, "01ab"));
	history_free(h);

	/* A broken chain is still refused, entry or not. */
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("{\"seq\":9}\n", f);
	fclose(f);
	assert_int_not_equal(history_load(dir, &h), 0);
	assert_null(h);
}

/* A CA's subject comes back from the index with the lint hashes computed when it was
 * parsed, and those hashes are the subject's own (lint_name_der_hash's). */
static void test_index_ca_hashes(void **state)
{
	struct transcript *t = NULL;
	struct history *h = NULL;
	struct lint_name_der want, bad;
	X509_NAME *name = X509_NAME_new();
	unsigned char *der = NULL;
	char path[128], sig[140], *hex;
	int len;
	FILE *f;

	(void)state;
	assert_non_null(name);
	assert_true(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"T", -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"Sub CA", -1, -1, 0));
	len = i2d_X509_NAME(name, &der);
	assert_true(len > 0);
	hex = malloc((size_t)len * 2 + 1);
	assert_non_null(hex);
	hex_encode(der, (size_t)len, hex);
	memset(&want, 0, sizeof(want));
	want.der = der;
	want.len = (size_t)len;
	lint_name_der_hash(&want);
	assert_true(want.hashed && want.has_cn);
	memset(&bad, 0, sizeof(bad));
	bad.der = (const unsigned char *)"\x30\x03";
	bad.len = 2;
	lint_name_der_hash(&bad); /* does not decode */
	assert_false(bad.hashed);

	snprintf(path, sizeof(path), "%s/ca.jsonl", dir);
	snprintf(sig, sizeof(sig), "%s.sig", path);
	assert_int_equal(transcript_open(path, "unit", &t), 0);
	assert_int_equal(transcript_append(t, "cert.issue", NULL, NULL,
					   json_pack("{s:s, s:{s:s, s:s}}", "profile_kind", "ca",
						     "certificate", "serial", "0A0B", "subject_der", hex),
					   NULL),
			 0);
	transcript_close(t);
	f = fopen(sig, "w");
	assert_non_null(f);
	fclose(f);
	for (int pass = 0; pass < 2; pass++) { /* parsed (entry written), then from the entry */
		const struct lint_name_der *got;
		assert_int_equal(history_load(dir, &h), 0);
		assert_int_equal(h->n_ca, 1);
		got = &h->ca[0].name;
		assert_int_equal(h->ca[0].subject_der_len, (size_t)len);
		assert_memory_equal(h->ca[0].subject_der, der, (size_t)len);
		assert_ptr_equal(got->der, h->ca[0].subject_der);
		assert_int_equal(got->len, (size_t)len);
		assert_int_equal(got->hashed, want.hashed);
		assert_int_equal(got->has_cn, want.has_cn);
		assert_true(got->subject_hash == want.subject_hash && got->cn_hash == want.cn_hash);
		assert_non_null(history_find_ca(h, "0a0b"));
		history_free(h);
		assert_int_equal(count_cache_entries(), 1);
	}
	free(hex);
	OPENSSL_free(der);
	X509_NAME_free(name);
}


static void seal(const char *path)
{
	char sig[160];
	FILE *f;

	snprintf(sig, sizeof(sig), "%s.sig", path);
	f = fopen(sig, "w"); /* history only looks at whether it is sealed */
	assert_non_null(f);
	fclose(f);
}

static void unseal(const char *path)
{
	char sig[160];

	snprintf(sig, sizeof(sig), "%s.sig", path);
	assert_int_equal(unlink(sig), 0);
}

/* Run a shell command built from a format; its exit status must be 0. */
static void shell(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	assert_true(vsnprintf(cmd, sizeof(cmd), fmt, ap) < (int)sizeof(cmd));
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* The one entry of the cache (there must be exactly one). */
static void only_entry(char *out, size_t size)
{
	char cmd[200];
	FILE *p;

	assert_int_equal(count_cache_entries(), 1);
	snprintf(cmd, sizeof(cmd), "ls -d %s/ceremony/history/*", cache);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, (int)size, p));
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

static void assert_facts(const char *name, const char *first_time, unsigned marks)
{
	struct history *h = NULL;
	const struct history_file *f;

	assert_int_equal(history_load(dir, &h), 0);
	assert_int_equal(h->n_transcripts, 1);
	f = history_file_find(h, name);
	assert_non_null(f);
	assert_true(f->sealed);
	assert_true(f->known);
	assert_string_equal(f->first_time, first_time);
	assert_int_equal(f->marks, marks);
	assert_null(history_file_find(h, "other.jsonl"));
	assert_true(history_has_serial(h, "0C"));
	history_free(h);
}

/* A first record's time and the rare actions the quorum walk looks for: found by the
 * parse, kept in the index entry and read back from it; an entry whose facts are
 * damaged, or of the version before them, is ignored and rebuilt; a transcript whose
 * marks change (ceremony.abandoned appended before sealing) is parsed again. */
static void test_index_walk_facts(void **state)
{
	struct transcript *t = NULL;
	struct history *h = NULL;
	char path[128], entry[512], first[64];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/w.jsonl", dir);
	assert_int_equal(transcript_open(path, "unit", &t), 0);
	assert_int_equal(transcript_append(t, "cert.root", NULL, NULL,
					   json_pack("{s:{s:s}}", "certificate", "serial", "0C"), NULL),
			 0);
	assert_int_equal(transcript_append(t, "note", NULL, NULL,
					   json_pack("{s:s}", "text",
						     "\"action\":\"ceremony.abandoned\" in a string"),
					   NULL),
			 0);
	transcript_close(t);
	/* The first record's time, as written. */
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "{\"seq\":1,\"time\":\"%63[^\"]\"", first), 1);
	fclose(f);
	seal(path);

	for (int pass = 0; pass < 2; pass++) /* parsed (entry written), then from the entry */
		assert_facts("w.jsonl", first, HISTORY_MARK_ROOT);
	only_entry(entry, sizeof(entry));
	shell("head -c 8 %s | grep -qx CERHIX05", entry);

	/* A marks byte no version writes, under a correct self-hash: ignored, rebuilt. */
	shell("python3 -c 'import hashlib,sys; p=sys.argv[1]; b=bytearray(open(p,\"rb\").read()[:-32]); "
	      "b[-1]=0x80; open(p,\"wb\").write(bytes(b)+hashlib.sha256(b).digest())' %s",
	      entry);
	assert_facts("w.jsonl", first, HISTORY_MARK_ROOT);
	shell("python3 -c 'import sys; b=open(sys.argv[1],\"rb\").read(); sys.exit(b[-33]!=%u)' %s",
	      HISTORY_MARK_ROOT, entry);

	/* An entry of the version before (CERHIX04: no facts), self-hash correct: ignored,
	 * the transcript parsed, the entry rewritten in this version. */
	shell("python3 -c 'import hashlib,sys; p=sys.argv[1]; b=open(p,\"rb\").read()[:-32]; "
	      "n=%zu; assert b[-(n+2)]==n; b=b\"CERHIX04\"+b[8:-(n+3)]; "
	      "open(p,\"wb\").write(b+hashlib.sha256(b).digest())' %s",
	      strlen(first), entry);
	shell("head -c 8 %s | grep -qx CERHIX04", entry);
	assert_facts("w.jsonl", first, HISTORY_MARK_ROOT);
	shell("head -c 8 %s | grep -qx CERHIX05", entry);

	/* The ceremony is abandoned before it is sealed again: new bytes, new facts. */
	unseal(path);
	assert_int_equal(transcript_open(path, NULL, &t), 0);
	assert_int_equal(transcript_append(t, "ceremony.abandoned", NULL, NULL, json_object(), NULL),
			 0);
	transcript_close(t);
	seal(path);
	for (int pass = 0; pass < 2; pass++)
		assert_facts("w.jsonl", first, HISTORY_MARK_ROOT | HISTORY_MARK_ABANDONED);
	assert_int_equal(count_cache_entries(), 2);

	/* An unsealed transcript's facts are found too, but it is not known as sealed. */
	unseal(path);
	assert_int_equal(history_load(dir, &h), 0);
	assert_false(history_file_find(h, "w.jsonl")->sealed);
	history_free(h);
}

/* The quorum walk takes a sealed transcript's facts from the history read in the same
 * call, not from the file again; another folder's history is not taken. */
static void test_walk_uses_history(void **state)
{
	struct transcript *t = NULL;
	struct history *h = NULL, *other = NULL;
	struct quorum_state st;
	char path[128], elsewhere[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/r.jsonl", dir);
	assert_int_equal(transcript_open(path, "unit", &t), 0);
	assert_int_equal(transcript_append(t, "cert.root", NULL, NULL,
					   json_pack("{s:{s:s}}", "certificate", "serial", "0D"), NULL),
			 0);
	transcript_close(t);
	seal(path);
	assert_int_equal(history_load(dir, &h), 0);
	snprintf(elsewhere, sizeof(elsewhere), "%s/none", dir);
	assert_int_equal(history_load(elsewhere, &other), 0);
	/* Its bytes become unreadable as a transcript after the history read them. */
	shell("printf 'not json\\n' > %s", path);

	quorum_state_init(&st);
	assert_int_equal(quorum_state_load_known(&st, dir, NULL, h), 0);
	assert_false(st.has_policy);
	quorum_state_free(&st);
	/* Without the history (or with another folder's), the walk reads the file itself. */
	quorum_state_init(&st);
	assert_int_not_equal(quorum_state_load(&st, dir, NULL), 0);
	quorum_state_free(&st);
	quorum_state_init(&st);
	assert_int_not_equal(quorum_state_load_known(&st, dir, NULL, other), 0);
	quorum_state_free(&st);
	cer_err_clear();
	history_free(h);
	history_free(other);
}

/* Many transcripts, read by two threads and merged in name order: parsed, then from
 * their entries, the same answers; the first damaged one by name is the one reported. */
static void test_load_many(void **state)
{
	struct history *h = NULL;
	char path[128], serial[16];
	FILE *f;

	(void)state;
	for (int i = 0; i < 7; i++) {
		struct transcript *t = NULL;
		snprintf(path, sizeof(path), "%s/m%d.jsonl", dir, i);
		assert_int_equal(transcript_open(path, "unit", &t), 0);
		for (int k = 0; k < 40; k++) { /* 0..39 in m0, 10..49 in m1, ...: overlaps */
			snprintf(serial, sizeof(serial), "%04X", i * 10 + k);
			write_issue(t, serial, (char)('a' + (i * 10 + k) % 26));
		}
		snprintf(serial, sizeof(serial), "CA%02d", i);
		assert_int_equal(transcript_append(t, "cert.issue", NULL, NULL,
						   json_pack("{s:s, s:{s:s, s:s}}", "profile_kind", "ca",
							     "certificate", "serial", serial,
							     "subject_der", "3000"),
						   NULL),
				 0);
		transcript_close(t);
		if (i != 3) /* one not sealed: parsed every time */
			seal(path);
	}
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(history_load(dir, &h), 0);
		assert_int_equal(h->n_transcripts, 7);
		assert_int_equal(h->n_serials, 100 + 7); /* 0000..0063 once each, 7 CAs */
		assert_int_equal(h->n_spki, 6); /* a..f: the other letters are not hex */
		assert_int_equal(h->n_ca, 7);
		for (int i = 0; i < 7; i++) {
			snprintf(serial, sizeof(serial), "CA%02d", i);
			assert_string_equal(h->ca[i].serial, serial); /* in name order */
			assert_ptr_equal(h->ca[i].name.der, h->ca[i].subject_der);
		}
		for (int k = 0; k < 100; k++) {
			snprintf(serial, sizeof(serial), "%04x", k);
			assert_true(history_has_serial(h, serial));
		}
		assert_false(history_has_serial(h, "0064"));
		history_free(h);
		h = NULL;
		assert_int_equal(count_cache_entries(), 6);
	}
	/* Two broken chains: the first by name is reported, and nothing is returned. */
	for (int i = 5; i >= 2; i -= 3) {
		snprintf(path, sizeof(path), "%s/m%d.jsonl", dir, i);
		f = fopen(path, "a");
		assert_non_null(f);
		fputs("{\"seq\":99}\n", f);
		fclose(f);
	}
	assert_int_not_equal(history_load(dir, &h), 0);
	assert_null(h);
	assert_non_null(strstr(cer_err_msg(CER_E_VERIFY), "m2.jsonl"));
	assert_null(strstr(cer_err_msg(CER_E_VERIFY), "m5.jsonl"));
	cer_err_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),
		cmocka_unit_test_setup_teardown(test_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_ca_hashes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_walk_facts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_uses_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_many, setup, teardown),
	};
	if (secret_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

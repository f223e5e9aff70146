/* Unit tests for the medium's manifest: which files are hashed. */
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

#include "ceremony/media.h"

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	assert_true(snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int listed(const struct media_manifest *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->files[i].path, path) == 0)
			return 1;
	return 0;
}

/* Only the medium's own MANIFEST.sha256 and MANIFEST.sha256.sig are left out, by exact name. */
static void test_media_scan_hashes_files_that_only_start_like_the_manifest(void **state)
{
	char dir[] = "/tmp/ceremony-media-XXXXXX", sub[600], cmd[700];
	struct media_manifest *m = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_true(snprintf(sub, sizeof(sub), "%s/csr", dir) < (int)sizeof(sub));
	assert_int_equal(mkdir(sub, 0700), 0);
	put(dir, "MANIFEST.sha256", "the manifest\n");
	put(dir, "MANIFEST.sha256.sig", "its signature\n");
	put(dir, "MANIFEST.sha256.evil", "planted\n");
	put(dir, "MANIFEST.sha256x", "planted\n");
	put(sub, "MANIFEST.sha256", "in a subfolder\n");
	put(sub, "a.csr", "csr\n");
	assert_int_equal(media_scan(dir, &m), 0);
	assert_true(listed(m, "MANIFEST.sha256.evil"));
	assert_true(listed(m, "MANIFEST.sha256x"));
	assert_true(listed(m, "csr/MANIFEST.sha256"));
	assert_true(listed(m, "csr/a.csr"));
	assert_false(listed(m, "MANIFEST.sha256"));
	assert_false(listed(m, "MANIFEST.sha256.sig"));
	assert_int_equal(m->n, 4);
	media_manifest_free(m);
	assert_true(snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) < (int)sizeof(cmd));
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_media_scan_hashes_files_that_only_start_like_the_manifest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * A SoftHSM2 token folder of the test's own for the PKCS#11 unit tests (test_p11,
 * test_p11wrap): finds the module, makes DIR/tokens and DIR/softhsm2.conf in a new
 * /tmp/ceremony-NAME.XXXXXX and points SOFTHSM2_CONF at it; removes the folder at
 * the end. Without SoftHSM2, module_path stays empty and the token tests skip.
 */
#ifndef CEREMONY_TEST_SOFTHSM_H
#define CEREMONY_TEST_SOFTHSM_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ceremony/secret.h"

static char dir[256], module_path[256];

/* 0, or -1 when the folder cannot be made (module_path "" when SoftHSM2 is not installed). */
static inline int softhsm_folder_make(const char *name)
{
	static const char *mods[] = {"/usr/lib/softhsm/libsofthsm2.so",
				     "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
				     "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"};
	char conf[300], text[600];
	FILE *f;

	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++)
		if (access(mods[i], R_OK) == 0 &&
		    snprintf(module_path, sizeof(module_path), "%s", mods[i]) >= (int)sizeof(module_path))
			return -1;
	if (module_path[0] == '\0')
		return 0;
	if (snprintf(dir, sizeof(dir), "/tmp/ceremony-%s.XXXXXX", name) >= (int)sizeof(dir) ||
	    mkdtemp(dir) == NULL)
		return -1;
	if (snprintf(text, sizeof(text), "%s/tokens", dir) >= (int)sizeof(text) ||
	    mkdir(text, 0700) != 0 ||
	    snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir) >= (int)sizeof(conf) ||
	    (f = fopen(conf, "w")) == NULL)
		return -1;
	fprintf(f, "directories.tokendir = %s/tokens\nobjectstore.backend = file\n"
		   "log.level = ERROR\nslots.removable = false\n",
		dir);
	if (fclose(f) != 0)
		return -1;
	return setenv("SOFTHSM2_CONF", conf, 1);
}

static inline int softhsm_folder_remove(void)
{
	char cmd[300];

	if (dir[0] == '\0')
		return 0;
	if (snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) >= (int)sizeof(cmd))
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}

/* A PIN in secret memory, as the tool holds one. */
static inline struct secret *pin(const char *text)
{
	struct secret *s = NULL;

	assert_int_equal(secret_new(64, &s), 0);
	memcpy(s->data, text, strlen(text));
	s->len = strlen(text);
	return s;
}

#endif

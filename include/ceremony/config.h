/*
 * config — the site configuration file ceremony.yaml.
 *
 * Owns: reading the flat mapping of site settings (module, media, state folder,
 * token names) with libyaml. Never holds PINs or passphrases: a key called
 * pin/passphrase is refused. Does not own: what a setting means.
 */
#ifndef CEREMONY_CONFIG_H
#define CEREMONY_CONFIG_H

#include <limits.h>
#include <stdint.h>

#include "ceremony/sizes.h"

#define CONFIG_MAX_BYTES (64 * 1024)
#define CONFIG_MAX_KEYS 64

struct config {
	char path[PATH_MAX];
	uint8_t sha256[SHA256_LEN];
	int n;
	char *keys[CONFIG_MAX_KEYS];
	char *values[CONFIG_MAX_KEYS];
};

int config_load(const char *path, struct config **out) __attribute__((warn_unused_result));
/* The value of key, or NULL. */
const char *config_get(const struct config *c, const char *key);
void config_free(struct config *c);

#endif

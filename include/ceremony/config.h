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
	/* SHA-256 of the file with each confidential setting's value (k, n, the Key Executive
	 * lists) replaced by "<confidential>": what a public record may hold. The file's own
	 * hash would give k and n away to anyone who tries the few values they can take. */
	uint8_t public_sha256[SHA256_LEN];
	int n;
	char *keys[CONFIG_MAX_KEYS];
	char *values[CONFIG_MAX_KEYS];
};

int config_load(const char *path, struct config **out) __attribute__((warn_unused_result));
/* backup_threshold, backup_shares and every *key_executives list: k, n and the cards. */
int config_key_is_confidential(const char *key);
/* The value of key, or NULL. */
const char *config_get(const struct config *c, const char *key);
void config_free(struct config *c);

#endif

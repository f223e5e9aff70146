#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <yaml.h>

#include "ceremony/config.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"

static int config_key_is_secret(const char *key)
{
	return strstr(key, "pin") != NULL || strstr(key, "passphrase") != NULL ||
	       strstr(key, "password") != NULL;
}

int config_key_is_confidential(const char *key)
{
	size_t len = strlen(key), tail = strlen("key_executives");

	return strcmp(key, "backup_threshold") == 0 || strcmp(key, "backup_shares") == 0 ||
	       (len >= tail && strcmp(key + len - tail, "key_executives") == 0);
}

/*
 * The hash a public record may hold: each top-level line "KEY: ..." whose KEY is
 * confidential is hashed as "KEY: <confidential>", and its indented continuation lines
 * are left out; every other byte is hashed as it is. An auditor with the file recomputes
 * it with (docs/scripts.md)
 *   sed -E 's/^(backup_threshold|backup_shares|[a-z_]*key_executives):.*$/\1: <confidential>/'
 */
static int config_public_sha256(const uint8_t *text, size_t len, uint8_t out[SHA256_LEN])
{
	static const char hidden[] = ": <confidential>\n";
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1, skipping = 0;
	size_t i = 0;

	while (ok && i < len) {
		const uint8_t *nl = memchr(text + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - text) + 1 : len, klen = 0;
		char key[128];
		if (skipping && (text[i] == ' ' || text[i] == '\t')) {
			i = end; /* a continuation of a confidential value */
			continue;
		}
		skipping = 0;
		while (i + klen < end && klen < sizeof(key) - 1 && text[i + klen] != ':' &&
		       text[i + klen] != '\n' && text[i + klen] != ' ')
			klen++;
		memcpy(key, text + i, klen);
		key[klen] = '\0';
		if (klen > 0 && i + klen < end && text[i + klen] == ':' &&
		    config_key_is_confidential(key)) {
			ok = EVP_DigestUpdate(md, text + i, klen) == 1 &&
			     EVP_DigestUpdate(md, hidden, strlen(hidden)) == 1;
			skipping = 1;
		} else {
			ok = EVP_DigestUpdate(md, text + i, end - i) == 1;
		}
		i = end;
	}
	ok = ok && EVP_DigestFinal_ex(md, out, NULL) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : cer_err(CER_E_CRYPTO, "cannot hash the configuration");
}

static int config_add(struct config *c, const char *key, const char *value)
{
	if (c->n == CONFIG_MAX_KEYS)
		return cer_err(CER_E_INPUT, "%s: more than %d settings", c->path, CONFIG_MAX_KEYS);
	if (config_key_is_secret(key))
		return cer_err(CER_E_REFUSED,
			       "%s: \"%s\" looks like a secret; PINs and passphrases never go in "
			       "the configuration",
			       c->path, key);
	if (config_get(c, key) != NULL)
		return cer_err(CER_E_INPUT, "%s: \"%s\" is set twice", c->path, key);
	c->keys[c->n] = strdup(key);
	c->values[c->n] = strdup(value);
	if (c->keys[c->n] == NULL || c->values[c->n] == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	c->n++;
	return 0;
}

static int config_parse(struct config *c, const uint8_t *text, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	char key[256];
	int depth = 0, have_key = 0, done = 0, r = 0;

	if (!yaml_parser_initialize(&parser))
		return cer_err(CER_E_NOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, text, len);
	while (!done && r == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			r = cer_err(CER_E_INPUT, "%s: line %zu: %s", c->path,
				    parser.problem_mark.line + 1,
				    parser.problem ? parser.problem : "YAML error");
			break;
		}
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT:
			if (++depth > 1)
				r = cer_err(CER_E_INPUT, "%s: line %zu: settings are flat \"key: value\"",
					    c->path, ev.start_mark.line + 1);
			break;
		case YAML_SEQUENCE_START_EVENT:
			r = cer_err(CER_E_INPUT, "%s: line %zu: lists are not settings", c->path,
				    ev.start_mark.line + 1);
			break;
		case YAML_MAPPING_END_EVENT: depth--; break;
		case YAML_SCALAR_EVENT:
			if (depth != 1) {
				r = cer_err(CER_E_INPUT, "%s: not a mapping of settings", c->path);
			} else if (!have_key) {
				if (snprintf(key, sizeof(key), "%s", (char *)ev.data.scalar.value) >=
				    (int)sizeof(key))
					r = cer_err(CER_E_INPUT, "%s: key too long", c->path);
				have_key = 1;
			} else {
				r = config_add(c, key, (char *)ev.data.scalar.value);
				have_key = 0;
			}
			break;
		case YAML_STREAM_END_EVENT: done = 1; break;
		default: break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return r;
}

int config_load(const char *path, struct config **out)
{
	struct config *c;
	uint8_t *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if (snprintf(c->path, sizeof(c->path), "%s", path) >= (int)sizeof(c->path)) {
		r = cer_err(CER_E_INPUT, "configuration path too long");
		goto out;
	}
	if ((r = file_read_all(path, CONFIG_MAX_BYTES, &text, &len)) != 0)
		goto out;
	if ((r = file_sha256(path, c->sha256)) != 0 ||
	    (r = config_public_sha256(text, len, c->public_sha256)) != 0)
		goto out;
	if ((r = config_parse(c, text, len)) != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	free(text);
	config_free(c);
	return r;
}

const char *config_get(const struct config *c, const char *key)
{
	for (int i = 0; c != NULL && i < c->n; i++)
		if (strcmp(c->keys[i], key) == 0)
			return c->values[i];
	return NULL;
}

void config_free(struct config *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < c->n; i++) {
		free(c->keys[i]);
		free(c->values[i]);
	}
	free(c);
}

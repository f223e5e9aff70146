#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "ceremony/config.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"

static int config_key_is_secret(const char *key)
{
	return strstr(key, "pin") != NULL || strstr(key, "passphrase") != NULL ||
	       strstr(key, "password") != NULL;
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
	if ((r = file_sha256(path, c->sha256)) != 0)
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

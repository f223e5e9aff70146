/*
 * yamljson — read a YAML document (libyaml) into a jansson tree.
 *
 * Owns: turning mappings, sequences and scalars into JSON objects, arrays and
 * strings (every scalar stays a string; callers convert), refusing anchors,
 * aliases, tags, duplicate keys and more than one document. Does not own: what
 * the keys mean (profile, script, config).
 */
#ifndef CEREMONY_YAMLJSON_H
#define CEREMONY_YAMLJSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define YAMLJSON_MAX_DEPTH 32

int yamljson_parse(const char *name, const uint8_t *text, size_t len, json_t **out)
	__attribute__((warn_unused_result));
/* Read a file (at most max bytes) and parse it. */
int yamljson_load(const char *path, size_t max, json_t **out) __attribute__((warn_unused_result));

#endif

#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/yamljson.h"

struct yj {
	yaml_parser_t parser;
	const char *name;
};

static int yj_node(struct yj *y, yaml_event_t *ev, int depth, json_t **out);

static int yj_next(struct yj *y, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&y->parser, ev))
		return cer_err(CER_E_INPUT, "%s: line %zu: %s", y->name,
			       y->parser.problem_mark.line + 1,
			       y->parser.problem ? y->parser.problem : "YAML error");
	return 0;
}

static int yj_mapping(struct yj *y, int depth, size_t line, json_t **out)
{
	json_t *obj = json_object();
	yaml_event_t ev;
	int r;

	if (obj == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (;;) {
		json_t *value = NULL;
		char *key;

		if ((r = yj_next(y, &ev)) != 0)
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			r = cer_err(CER_E_INPUT, "%s: line %zu: keys must be plain words", y->name,
				    ev.start_mark.line + 1);
			yaml_event_delete(&ev);
			goto fail;
		}
		if (memchr(ev.data.scalar.value, '\0', ev.data.scalar.length) != NULL) {
			r = cer_err(CER_E_INPUT, "%s: line %zu: a key holds a NUL character", y->name,
				    (size_t)ev.start_mark.line + 1);
			yaml_event_delete(&ev);
			goto fail;
		}
		key = strdup((char *)ev.data.scalar.value);
		line = ev.start_mark.line + 1;
		yaml_event_delete(&ev);
		if (key == NULL) {
			r = cer_err(CER_E_NOMEM, "out of memory");
			goto fail;
		}
		if (json_object_get(obj, key) != NULL) {
			r = cer_err(CER_E_INPUT, "%s: line %zu: \"%s\" appears twice", y->name, line,
				    key);
			free(key);
			goto fail;
		}
		if ((r = yj_next(y, &ev)) != 0 || (r = yj_node(y, &ev, depth + 1, &value)) != 0) {
			free(key);
			goto fail;
		}
		r = json_object_set_new(obj, key, value);
		free(key);
		if (r != 0) {
			r = cer_err(CER_E_NOMEM, "out of memory");
			goto fail;
		}
	}
	*out = obj;
	return 0;
fail:
	json_decref(obj);
	return r;
}

static int yj_sequence(struct yj *y, int depth, json_t **out)
{
	json_t *arr = json_array();
	yaml_event_t ev;
	int r;

	if (arr == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (;;) {
		json_t *value = NULL;

		if ((r = yj_next(y, &ev)) != 0)
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if ((r = yj_node(y, &ev, depth + 1, &value)) != 0)
			goto fail;
		if (json_array_append_new(arr, value) != 0) {
			r = cer_err(CER_E_NOMEM, "out of memory");
			goto fail;
		}
	}
	*out = arr;
	return 0;
fail:
	json_decref(arr);
	return r;
}

/* Consumes ev. */
static int yj_node(struct yj *y, yaml_event_t *ev, int depth, json_t **out)
{
	size_t line = ev->start_mark.line + 1;
	int r;

	*out = NULL;
	if (depth > YAMLJSON_MAX_DEPTH) {
		yaml_event_delete(ev);
		return cer_err(CER_E_INPUT, "%s: line %zu: nested too deeply", y->name, line);
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor != NULL || ev->data.scalar.tag != NULL) {
			r = cer_err(CER_E_INPUT, "%s: line %zu: anchors and tags are not used here",
				    y->name, line);
			break;
		}
		/* "\0" in a quoted scalar: a C string would end there, and what the tool acts on
		 * would differ from what the file says. */
		if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length) != NULL) {
			r = cer_err(CER_E_INPUT, "%s: line %zu: a text holds a NUL character", y->name,
				    line);
			break;
		}
		*out = json_stringn((char *)ev->data.scalar.value, ev->data.scalar.length);
		r = *out == NULL ? cer_err(CER_E_INPUT, "%s: line %zu: not valid UTF-8", y->name, line)
				 : 0;
		break;
	case YAML_MAPPING_START_EVENT:
		yaml_event_delete(ev);
		return yj_mapping(y, depth, line, out);
	case YAML_SEQUENCE_START_EVENT:
		yaml_event_delete(ev);
		return yj_sequence(y, depth, out);
	case YAML_ALIAS_EVENT:
		r = cer_err(CER_E_INPUT, "%s: line %zu: aliases are not used here", y->name, line);
		break;
	default:
		r = cer_err(CER_E_INPUT, "%s: line %zu: unexpected YAML structure", y->name, line);
		break;
	}
	yaml_event_delete(ev);
	return r;
}

int yamljson_parse(const char *name, const uint8_t *text, size_t len, json_t **out)
{
	struct yj y;
	yaml_event_t ev;
	json_t *root = NULL;
	int r;

	*out = NULL;
	y.name = name;
	if (!yaml_parser_initialize(&y.parser))
		return cer_err(CER_E_NOMEM, "out of memory");
	yaml_parser_set_input_string(&y.parser, text, len);
	/* STREAM-START, DOCUMENT-START */
	for (int i = 0; i < 2; i++) {
		if ((r = yj_next(&y, &ev)) != 0)
			goto out;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			r = cer_err(CER_E_INPUT, "%s: empty document", name);
			goto out;
		}
		yaml_event_delete(&ev);
	}
	if ((r = yj_next(&y, &ev)) != 0 || (r = yj_node(&y, &ev, 0, &root)) != 0)
		goto out;
	if ((r = yj_next(&y, &ev)) != 0)
		goto out;
	yaml_event_delete(&ev); /* DOCUMENT-END */
	if ((r = yj_next(&y, &ev)) != 0)
		goto out;
	if (ev.type != YAML_STREAM_END_EVENT) {
		r = cer_err(CER_E_INPUT, "%s: more than one YAML document", name);
		yaml_event_delete(&ev);
		goto out;
	}
	yaml_event_delete(&ev);
	*out = root;
	root = NULL;
out:
	json_decref(root);
	yaml_parser_delete(&y.parser);
	return r;
}

int yamljson_load(const char *path, size_t max, json_t **out)
{
	uint8_t *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = file_read_all(path, max, &text, &len)) != 0)
		return r;
	r = yamljson_parse(path, text, len, out);
	free(text);
	return r;
}

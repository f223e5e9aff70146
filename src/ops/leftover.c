#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/leftover.h"

#define LEFTOVER_MSG_MAX 1024

int leftover_record(struct transcript *tr, int r, json_t *token, json_t *objects,
		    const char *after)
{
	char first[LEFTOVER_MSG_MAX], why[LEFTOVER_MSG_MAX];
	json_t *details = json_pack("{s:o, s:o, s:s}", "token", token, "objects", objects, "after",
				    after);
	int w;

	/* The first error's words are the message; transcript_append may overwrite them. */
	w = snprintf(first, sizeof(first), "%s", cer_err_msg(r));
	if (w < 0)
		first[0] = '\0';
	if (details == NULL)
		return cer_err(r, "%s; NOT recorded in the transcript (out of memory)", first);
	if (tr == NULL) {
		json_decref(details);
		return cer_err(r, "%s; NOT recorded (no transcript open)", first);
	}
	if (transcript_append(tr, "hsm.leftover", NULL, NULL, details, NULL) == 0)
		return cer_err(r, "%s; recorded in the transcript (hsm.leftover)", first);
	w = snprintf(why, sizeof(why), "%s", cer_err_msg(CER_E_IO));
	if (w < 0)
		why[0] = '\0';
	return cer_err(r, "%s; NOT recorded in the transcript (%s)", first, why);
}

#define LEFTOVER_MAX_TRANSCRIPTS 4096

struct key_search {
	const char *serial, *label, *id_hex;
	int left, generated;
};

static int same_token(json_t *details, const char *serial)
{
	const char *s = json_string_value(json_object_get(json_object_get(details, "token"), "serial"));
	return s != NULL && strcmp(s, serial) == 0;
}

static int key_search_record(void *arg, long line, json_t *rec)
{
	struct key_search *k = arg;
	const char *action = json_string_value(json_object_get(rec, "action"));
	json_t *d = json_object_get(rec, "details"), *o;
	size_t i;

	(void)line;
	if (action == NULL || !same_token(d, k->serial))
		return 0;
	if (strcmp(action, "key.generate") == 0) {
		json_t *key = json_object_get(d, "key");
		const char *l = json_string_value(json_object_get(key, "label"));
		const char *id = json_string_value(json_object_get(key, "id"));
		if (l != NULL && id != NULL && strcmp(l, k->label) == 0 && strcmp(id, k->id_hex) == 0)
			k->generated = 1;
	} else if (strcmp(action, "hsm.leftover") == 0) {
		json_array_foreach(json_object_get(d, "objects"), i, o)
		{
			const char *c = json_string_value(json_object_get(o, "class"));
			const char *l = json_string_value(json_object_get(o, "label"));
			const char *id = json_string_value(json_object_get(o, "id"));
			if (c != NULL && l != NULL && id != NULL &&
			    strcmp(c, "private and public key") == 0 && strcmp(l, k->label) == 0 &&
			    strcmp(id, k->id_hex) == 0)
				k->left = 1;
		}
	}
	return 0;
}

int leftover_key_named(const char *dir, const char *token_serial, const char *label,
		       const char *id_hex, int *named)
{
	struct key_search k = {token_serial, label, id_hex, 0, 0};
	char **names = NULL, path[PATH_MAX];
	size_t n = 0;
	int r;

	*named = 0;
	if ((r = file_list_dir(dir, ".jsonl", LEFTOVER_MAX_TRANSCRIPTS, &names, &n)) != 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path))
			r = cer_err(CER_E_INPUT, "%s: path too long", dir);
		else
			r = transcript_each(path, key_search_record, &k);
	}
	file_names_free(names);
	if (r == 0)
		*named = k.left && !k.generated;
	return r;
}

int leftover_removed_record(struct transcript *tr, json_t *token, json_t *objects)
{
	json_t *details = json_pack("{s:o, s:o}", "token", token, "objects", objects);

	if (details == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	return transcript_append(tr, "hsm.leftover_removed", NULL, NULL, details, NULL);
}

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/leftover.h"
#include "ceremony/p11key.h"
#include "ceremony/sizes.h"

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
#define LEFTOVER_MAX_OBJECTS 8

/* Where a record is: its time (RFC 3339, UTC: ordered as text), transcript, line. */
struct rec_at {
	char time[TIME_TEXT_SIZE];
	size_t file;
	long line;
	int set;
};

struct key_search {
	const char *serial, *label, *id_hex;
	size_t file;                /* the transcript being read */
	struct rec_at left, in_force; /* the latest of each */
};

static int rec_after(const struct rec_at *a, const struct rec_at *b)
{
	int c = strcmp(a->time, b->time);
	if (!b->set)
		return 1;
	if (c != 0)
		return c > 0;
	if (a->file != b->file)
		return a->file > b->file;
	return a->line > b->line;
}

static void rec_note(struct rec_at *latest, json_t *rec, size_t file, long line)
{
	struct rec_at at;
	const char *t = json_string_value(json_object_get(rec, "time"));

	memset(&at, 0, sizeof(at));
	if (t != NULL && strlen(t) < sizeof(at.time))
		memcpy(at.time, t, strlen(t) + 1);
	at.file = file;
	at.line = line;
	at.set = 1;
	if (rec_after(&at, latest))
		*latest = at;
}

static int same_token(json_t *details, const char *serial)
{
	const char *s = json_string_value(json_object_get(json_object_get(details, "token"), "serial"));
	return s != NULL && strcmp(s, serial) == 0;
}

static int names_pair(json_t *o, const struct key_search *k)
{
	const char *l = json_string_value(json_object_get(o, "label"));
	const char *id = json_string_value(json_object_get(o, "id"));
	return l != NULL && id != NULL && strcmp(l, k->label) == 0 && strcmp(id, k->id_hex) == 0;
}

static int key_search_record(void *arg, long line, json_t *rec)
{
	struct key_search *k = arg;
	const char *action = json_string_value(json_object_get(rec, "action"));
	json_t *d = json_object_get(rec, "details"), *o;
	size_t i;

	if (action == NULL || !same_token(d, k->serial))
		return 0;
	/* A key generated, or recovered from a backup, here is in force: never removed. */
	if ((strcmp(action, "key.generate") == 0 || strcmp(action, "backup.recover") == 0) &&
	    names_pair(json_object_get(d, "key"), k))
		rec_note(&k->in_force, rec, k->file, line);
	else if (strcmp(action, "hsm.leftover") == 0)
		json_array_foreach(json_object_get(d, "objects"), i, o)
		{
			const char *c = json_string_value(json_object_get(o, "class"));
			if (c != NULL &&
			    (strcmp(c, "private and public key") == 0 || strcmp(c, "private key") == 0 ||
			     strcmp(c, "public key") == 0) &&
			    names_pair(o, k))
				rec_note(&k->left, rec, k->file, line);
		}
	return 0;
}

static int key_named(const char *dir, struct key_search *k)
{
	char **names = NULL, path[PATH_MAX];
	size_t n = 0;
	int r;

	if ((r = file_list_dir(dir, ".jsonl", LEFTOVER_MAX_TRANSCRIPTS, &names, &n)) != 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path))
			r = cer_err(CER_E_INPUT, "%s: path too long", dir);
		else {
			k->file = i;
			r = transcript_each(path, key_search_record, k);
		}
	}
	file_names_free(names);
	return r;
}

/* Append hsm.leftover_removed {"token": token, "objects": objects} (steals both). */
static int leftover_removed_record(struct transcript *tr, json_t *token, json_t *objects)
{
	json_t *details = json_pack("{s:o, s:o}", "token", token, "objects", objects);

	if (details == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	return transcript_append(tr, "hsm.leftover_removed", NULL, NULL, details, NULL);
}

/* Add the objects matching one attribute to h[*n] (no duplicates); too many: *n past max. */
static int objects_add(struct p11_session *s, CK_ATTRIBUTE_TYPE type, const void *v, size_t len,
		       CK_OBJECT_HANDLE *h, size_t *n)
{
	CK_ATTRIBUTE t[] = {{type, (void *)v, len}};
	CK_OBJECT_HANDLE got[LEFTOVER_MAX_OBJECTS + 1];
	size_t m = 0;
	int r;

	if ((r = p11_objects_find(s, t, 1, got, LEFTOVER_MAX_OBJECTS + 1, &m)) != 0)
		return r;
	for (size_t i = 0; i < m; i++) {
		size_t j = 0;
		while (j < *n && j < LEFTOVER_MAX_OBJECTS && h[j] != got[i])
			j++;
		if (j < *n)
			continue;
		if (*n < LEFTOVER_MAX_OBJECTS)
			h[*n] = got[i];
		(*n)++;
	}
	return 0;
}

/* Every object a key (or the pair's waiver record) labelled label with one CKA_ID (to id). */
static int objects_are_pair(struct p11_session *s, const CK_OBJECT_HANDLE *h, size_t n,
			    const char *label, uint8_t *id, size_t *id_len, size_t id_max, int *ok)
{
	int r = 0;

	*ok = 1;
	for (size_t i = 0; i < n && r == 0 && *ok; i++) {
		CK_ULONG cls = 0;
		uint8_t *l = NULL, *d = NULL;
		size_t ll = 0, dl = 0;
		if ((r = p11_attr_ulong(s, h[i], CKA_CLASS, &cls)) != 0 ||
		    (r = p11_attr_get(s, h[i], CKA_LABEL, &l, &ll)) != 0 ||
		    (r = p11_attr_get(s, h[i], CKA_ID, &d, &dl)) != 0) {
			free(l);
			free(d);
			break;
		}
		/* CKO_DATA: the waivers p11key_generate stores beside the pair (same label, ID). */
		*ok = (cls == CKO_PRIVATE_KEY || cls == CKO_PUBLIC_KEY || cls == CKO_DATA) &&
		      ll == strlen(label) &&
		      memcmp(l, label, ll) == 0 && dl > 0 && dl <= id_max &&
		      (*id_len == 0 || (dl == *id_len && memcmp(d, id, dl) == 0));
		if (*ok && *id_len == 0) {
			memcpy(id, d, dl);
			*id_len = dl;
		}
		free(l);
		free(d);
	}
	return r;
}

int leftover_key_clear(struct transcript *tr, struct p11_session *s, const struct p11_token *tok,
		       json_t *token,
		       const char *label, const uint8_t *id, size_t id_len, const char *dir,
		       FILE *out, int *cleared)
{
	CK_OBJECT_HANDLE h[LEFTOVER_MAX_OBJECTS];
	uint8_t pair_id[64];
	size_t n = 0, pair_len = 0;
	char id_hex[2 * sizeof(pair_id) + 1];
	struct key_search k;
	int r, ok = 0, taken = 0;

	*cleared = 0;
	if (id != NULL) {
		if (id_len == 0 || id_len > sizeof(pair_id)) {
			r = 0;
			goto out;
		}
		memcpy(pair_id, id, id_len);
		pair_len = id_len;
	}
	if ((r = objects_add(s, CKA_LABEL, label, strlen(label), h, &n)) != 0 ||
	    (id != NULL && (r = objects_add(s, CKA_ID, id, id_len, h, &n)) != 0))
		goto out;
	if (n == 0 || n > LEFTOVER_MAX_OBJECTS)
		goto out;
	if ((r = objects_are_pair(s, h, n, label, pair_id, &pair_len, sizeof(pair_id), &ok)) != 0 ||
	    !ok)
		goto out;
	hex_encode(pair_id, pair_len, id_hex);
	memset(&k, 0, sizeof(k));
	k.serial = tok->serial;
	k.label = label;
	k.id_hex = id_hex;
	/* Left over, and not in force since: a recovery into this token puts the blob's
	 * CKA_ID back, so only the latest record about the pair says what it is now. */
	if ((r = key_named(dir, &k)) != 0 || !k.left.set ||
	    (k.in_force.set && !rec_after(&k.left, &k.in_force)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		CK_RV rv = p11_object_destroy_rv(s, h[i]);
		if (rv != CKR_OK) {
			r = cer_err(CER_E_P11,
				    "token \"%s\": the key pair \"%s\" (CKA_ID %s) a failed run left "
				    "(hsm.leftover) cannot be removed (%s); nothing else was done",
				    tok->label, label, id_hex,
				    p11_rv_name(rv) != NULL ? p11_rv_name(rv) : "unknown CKR code");
			goto out;
		}
	}
	if ((r = p11key_name_taken(s, label, pair_id, pair_len, &taken)) != 0)
		goto out;
	if (taken) {
		r = cer_err(CER_E_P11,
			    "token \"%s\": after removing the key pair \"%s\" (CKA_ID %s) a failed "
			    "run left, %d object(s) with its label or CKA_ID remain; nothing else "
			    "was done",
			    tok->label, label, id_hex, taken);
		goto out;
	}
	*cleared = 1;
	r = leftover_removed_record(tr, token, json_pack("[{s:s, s:s, s:s}]", "class",
							  "private and public key", "label", label,
							  "id", id_hex));
	token = NULL;
	if (r != 0) {
		cer_err_prefix("the key pair \"%s\" (CKA_ID %s) a failed run left was removed from "
			       "token \"%s\", but its removal is NOT recorded: ",
			       label, id_hex, tok->label);
		goto out;
	}
	fprintf(out, "Removed key pair \"%s\" (CKA_ID %s) from token \"%s\": a failed run left it "
		     "(hsm.leftover); recorded (hsm.leftover_removed)\n",
		label, id_hex, tok->label);
out:
	json_decref(token);
	return r;
}


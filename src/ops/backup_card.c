/* backup: Key Executive cards — login, share objects, and the card commands. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backup_int.h"
#include "ceremony/encode.h"
#include "ceremony/airgap.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/err.h"
#include "ceremony/hsm.h"
#include "ceremony/p11wrap.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"

#define CARD_OBJECTS_MAX 64
#define META_FORMAT_V1 "ceremony-backup-share-v1" /* not bound to a card */
#define META_FORMAT "ceremony-backup-share-v2"    /* binds the card's serial and label */

json_t *backup_token_json(const struct p11_token *t)
{
	return json_pack("{s:s, s:s, s:s}", "label", t->label, "serial", t->serial, "model",
			 t->model);
}

int backup_seal_limits(struct ceremony_ctx *ctx, int test_cost, const char *doing, FILE *out,
		       struct seal_limits *lim, const char **because)
{
	/* The configuration's key is the scripted runs' way to say it (ceremony run). */
	int cfg = 0, r;

	*because = NULL;
	*lim = seal_limits_production();
	if (!test_cost && (r = ctx_argon2_test(ctx, &cfg)) != 0)
		return r;
	if (!test_cost && !cfg)
		return 0;
	*lim = seal_limits_test();
	*because = test_cost ? "--test-cost" : CTX_ARGON2_COST_CAUSE;
	fprintf(out,
		"*** TEST COST (%s): %s at Argon2id %llu pass, %zu KiB, not 3 passes, 256 MiB.\n"
		"*** Shares sealed this way are NOT protected for production use; the transcript\n"
		"*** records it, and transcript verify and audit refuse it unless told.\n",
		*because, doing, lim->opslimit, lim->memlimit / 1024);
	fflush(out);
	return 0;
}

int backup_history_each(const char *dir, int (*fn)(void *arg, long line, json_t *rec), void *arg,
			const char **file)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int r = 0;

	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0
				       : cer_err(CER_E_IO, "%s: cannot read the transcripts folder: %s",
						 dir, strerror(errno));
	while (r == 0 && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len < 7 || strcmp(de->d_name + len - 6, ".jsonl") != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path)) {
			r = cer_err(CER_E_INPUT, "%s: path too long", dir);
			break;
		}
		*file = path;
		r = transcript_each(path, fn, arg);
	}
	closedir(d);
	*file = NULL;
	return r;
}

int backup_err_untouched(int r, const char *what)
{
	char msg[1024];

	if (snprintf(msg, sizeof(msg), "%s", cer_err_msg(r)) >= (int)sizeof(msg))
		msg[sizeof(msg) - 1] = '\0';
	return cer_err(r, "%s; %s", msg, what);
}

int backup_cards_module(struct ceremony_ctx *ctx, const char *path, struct p11_module **out)
{
	const char *p = path;
	int r;

	json_t *override = NULL;

	if ((r = airgap_enforce(ctx, &override)) != 0)
		return r;
	json_decref(override); /* recorded by the transcript's ceremony.begin, if any */
	if (p == NULL && (r = ctx_module_path(ctx, &p)) != 0)
		return r;
	return p11_module_load(p, out);
}

int backup_cards_resolve(struct p11_module *m, const struct backup_cards *in,
			 const struct p11_token *hsm, struct backup_card *out)
{
	int r;

	for (size_t i = 0; i < in->count; i++) {
		struct backup_card *c = &out[i];
		memset(c, 0, sizeof(*c));
		c->position = i + 1;
		c->name = in->names[i];
		c->pin_source = in->pin_sources != NULL ? in->pin_sources[i] : NULL;
		c->passphrase_source =
			in->passphrase_sources != NULL ? in->passphrase_sources[i] : NULL;
		c->holder = in->holders != NULL ? in->holders[i] : NULL;
		if ((r = p11_token_find(m, c->name, &c->token)) != 0) {
			cer_err_prefix("card %zu: ", i + 1);
			return r;
		}
		/* A number only helps when there are several cards. */
		if ((in->count > 1 ? snprintf(c->what, sizeof(c->what),
					      "card %zu (token \"%s\", serial %s)", i + 1,
					      c->token.label, c->token.serial)
				   : snprintf(c->what, sizeof(c->what), "card \"%s\" (serial %s)",
					      c->token.label, c->token.serial)) >= (int)sizeof(c->what))
			c->what[sizeof(c->what) - 1] = '\0';
		if (c->holder == NULL)
			c->holder = c->token.label;
		if (hsm != NULL && strcmp(c->token.serial, hsm->serial) == 0 &&
		    strcmp(c->token.label, hsm->label) == 0)
			return cer_err(CER_E_USAGE, "%s is the HSM token itself, not a card", c->what);
		for (size_t j = 0; j < i; j++)
			if (strcmp(out[j].token.serial, c->token.serial) == 0 &&
			    strcmp(out[j].token.label, c->token.label) == 0 &&
			    strcmp(out[j].token.manufacturer, c->token.manufacturer) == 0)
				return cer_err(CER_E_USAGE,
					       "card %zu and card %zu are the same token \"%s\" "
					       "(serial %s): each card may be given once",
					       j + 1, i + 1, c->token.label, c->token.serial);
	}
	return 0;
}

int backup_card_login(struct p11_module *m, struct backup_card *c)
{
	char prompt[200];
	int r;

	if ((r = p11_session_open(m, &c->token, &c->session)) != 0)
		return r;
	if (snprintf(prompt, sizeof(prompt), "card PIN for %s", c->what) >= (int)sizeof(prompt))
		prompt[sizeof(prompt) - 1] = '\0';
	r = p11_login_asking(c->session, CKU_USER, c->pin_source, prompt);
	if (r != 0)
		cer_err_prefix("card %zu: ", c->position);
	if (r != 0)
		backup_card_logout(c);
	return r;
}

void backup_card_logout(struct backup_card *c)
{
	p11_session_close(c->session);
	c->session = NULL;
}

int backup_share_label(const char *root, const uint8_t id[static BACKUPBLOB_ID_LEN],
		       unsigned group, unsigned member, char *out, size_t size)
{
	char hex[2 * BACKUPBLOB_ID_LEN + 1];

	hex_encode(id, BACKUPBLOB_ID_LEN, hex);
	if (snprintf(out, size, "%s backup %s share %u-%u", root, hex, group, member) >= (int)size)
		return cer_err(CER_E_INPUT, "share label too long");
	return 0;
}

int backup_share_meta(const char *root, const uint8_t id[static BACKUPBLOB_ID_LEN],
		      uint16_t slip39_id, unsigned group, unsigned member, const char *holder,
		      const struct p11_token *card, char **out, size_t *len)
{
	char hex[2 * BACKUPBLOB_ID_LEN + 1];
	json_t *o;

	hex_encode(id, BACKUPBLOB_ID_LEN, hex);
	/* Issue 9 item 17: the card's serial and label are authenticated with the share. */
	o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:s, s:s}", "format", META_FORMAT,
		      "backup", hex, "root", root, "slip39_id", (int)slip39_id, "group", (int)group,
		      "member", (int)member, "holder", holder, "card_serial", card->serial,
		      "card_label", card->label);
	*out = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (*out == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	*len = strlen(*out);
	return 0;
}

/* The card's clear claim about one share object (not authenticated until opened). */
struct share_claim {
	char backup[2 * BACKUPBLOB_ID_LEN + 1];
	char root[P11KEY_LABEL_MAX + 1];
	char holder[128];
	char card_serial[sizeof(((struct p11_token *)0)->serial)];
	char card_label[sizeof(((struct p11_token *)0)->label)];
	int bound; /* v2: card_serial and card_label are set */
	int group, member, slip39_id;
};

static int claim_parse(const uint8_t *blob, size_t len, struct share_claim *c)
{
	const uint8_t *meta;
	size_t meta_len;
	const char *format = NULL, *backup = NULL, *root = NULL, *holder = NULL;
	const char *serial = NULL, *label = NULL;
	json_t *o;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = seal_peek_meta(blob, len, &meta, &meta_len)) != 0)
		return r;
	o = json_loadb((const char *)meta, meta_len, JSON_REJECT_DUPLICATES, NULL);
	if (o == NULL ||
	    json_unpack(o, "{s:s, s:s, s:s, s:i, s:i, s:i, s:s, s?s, s?s}", "format", &format,
			"backup", &backup, "root", &root, "slip39_id", &c->slip39_id, "group",
			&c->group, "member", &c->member, "holder", &holder, "card_serial", &serial,
			"card_label", &label) != 0 ||
	    (strcmp(format, META_FORMAT) != 0 && strcmp(format, META_FORMAT_V1) != 0) ||
	    strlen(backup) != 2 * BACKUPBLOB_ID_LEN || strlen(root) > P11KEY_LABEL_MAX ||
	    (strcmp(format, META_FORMAT) == 0 &&
	     (serial == NULL || label == NULL || strlen(serial) >= sizeof(c->card_serial) ||
	      strlen(label) >= sizeof(c->card_label)))) {
		json_decref(o);
		return cer_err(CER_E_INPUT, "the share's metadata is not %s", META_FORMAT);
	}
	c->bound = strcmp(format, META_FORMAT) == 0;
	if (c->bound) {
		memcpy(c->card_serial, serial, strlen(serial) + 1);
		memcpy(c->card_label, label, strlen(label) + 1);
	}
	memcpy(c->backup, backup, strlen(backup) + 1);
	memcpy(c->root, root, strlen(root) + 1);
	if (snprintf(c->holder, sizeof(c->holder), "%s", holder) >= (int)sizeof(c->holder))
		c->holder[sizeof(c->holder) - 1] = '\0';
	json_decref(o);
	return 0;
}

/* The one share object of backup id on the card, with its value (malloc'd). */
static int card_find_share(struct backup_card *c, const uint8_t id[static BACKUPBLOB_ID_LEN],
			   CK_OBJECT_HANDLE *obj, uint8_t **value, size_t *len)
{
	CK_OBJECT_HANDLE h[CARD_OBJECTS_MAX];
	char want[2 * BACKUPBLOB_ID_LEN + 1], label[LABEL_SIZE], others[160] = "";
	int others_cut = 0;
	struct share_claim claim;
	size_t n = 0, found = 0;
	uint8_t *v = NULL;
	size_t vlen = 0;
	int r;

	*obj = CK_INVALID_HANDLE;
	*value = NULL;
	hex_encode(id, BACKUPBLOB_ID_LEN, want);
	if ((r = p11wrap_data_find(c->session, BACKUP_APPLICATION, NULL, h, CARD_OBJECTS_MAX,
				   &n)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if ((r = p11wrap_data_read(c->session, h[i], &v, &vlen, label, sizeof(label))) != 0)
			goto out;
		if (claim_parse(v, vlen, &claim) != 0 || strcmp(claim.backup, want) != 0) {
			/* Only for the message: past 160 bytes the list ends in ", ..." */
			if (claim.backup[0] != '\0' && !others_cut &&
			    text_append(others, sizeof(others), "other backups", "%s%s",
					others[0] ? ", " : "", claim.backup) != 0) {
				cer_err_clear();
				others_cut = 1;
			}
			free(v);
			v = NULL;
			continue;
		}
		if (found++ > 0) {
			r = cer_err(CER_E_INPUT, "%s holds two shares of backup %s", c->what, want);
			goto out;
		}
		*obj = h[i];
		*value = v;
		*len = vlen;
		v = NULL;
	}
	if (found == 0)
		r = cer_err(CER_E_NOTFOUND, "%s holds no share of backup %s%s%s%s%s", c->what, want,
			    others[0] ? " (it holds backup " : "", others,
			    others_cut ? ", ..." : "", others[0] ? ")" : "");
	else
		r = 0;
out:
	free(v);
	if (r != 0) {
		free(*value);
		*value = NULL;
	}
	return r;
}

int backup_card_open_share(struct backup_card *c, const struct backupblob *b,
			   const struct seal_limits *lim, const struct secret *passphrase,
			   const struct seal_key *key, struct slip39_share *share,
			   CK_OBJECT_HANDLE *object)
{
	struct secret *pass = NULL, *packed = NULL;
	struct share_claim claim;
	uint8_t *value = NULL;
	size_t len = 0;
	char prompt[200];
	int r;

	if ((r = card_find_share(c, b->backup_id, object, &value, &len)) != 0)
		goto out;
	if ((r = claim_parse(value, len, &claim)) != 0)
		goto out;
	if (snprintf(prompt, sizeof(prompt), "share passphrase for %s", c->what) >=
	    (int)sizeof(prompt))
		prompt[sizeof(prompt) - 1] = '\0';
	if (key == NULL && passphrase == NULL &&
	    (r = secret_read(c->passphrase_source, prompt, SLIP39_PASSPHRASE_MAX, &pass)) != 0)
		goto out;
	if ((key != NULL ? (r = seal_open_with_key(key, value, len, &packed))
			 : (r = seal_open(passphrase != NULL ? passphrase : pass, value, len, lim,
					  &packed))) != 0) {
		cer_err_prefix("%s: ", c->what);
		goto out;
	}
	if ((r = slip39_share_unpack(packed->data, packed->len, share)) != 0) {
		cer_err_prefix("%s: ", c->what);
		goto out;
	}
	/* The metadata was authenticated by seal_open; it must agree with the share itself. */
	if (share->id != b->slip39_id || share->group_index + 1 != claim.group ||
	    share->member_index + 1 != claim.member) {
		r = cer_err(CER_E_VERIFY, "%s: the share does not belong to this backup", c->what);
		goto out;
	}
	/* Authenticated too: a sealed share copied onto another card is found here. */
	if (claim.bound && (strcmp(claim.card_serial, c->token.serial) != 0 ||
			    strcmp(claim.card_label, c->token.label) != 0)) {
		r = cer_err(CER_E_VERIFY,
			    "%s: this share was sealed for card \"%s\" (serial %s), not this one: "
			    "it was copied here from another card",
			    c->what, claim.card_label, claim.card_serial);
		goto out;
	}
	if ((r = backupblob_check_share(b, share->group_index, share->member_index, packed->data,
					packed->len)) != 0) {
		cer_err_prefix("%s: ", c->what);
		goto out;
	}
	r = 0;
out:
	free(value);
	secret_free(pass);
	secret_free(packed);
	return r;
}

/* One named card: its module, its token, a logged-in session (card show, verify, wipe, audit). */
static int one_card_open(struct ceremony_ctx *ctx, const char *card, const char *passphrase_source,
			 struct p11_module **m, struct backup_card *c)
{
	const char *pins[1] = {ctx->pin_source}, *passes[1] = {passphrase_source};
	struct backup_cards one = {&card, 1, pins, passes, NULL, NULL};
	int r;

	if ((r = backup_cards_module(ctx, NULL, m)) != 0 ||
	    (r = backup_cards_resolve(*m, &one, NULL, c)) != 0)
		return r;
	return backup_card_login(*m, c);
}

static void one_card_close(struct p11_module *m, struct backup_card *c)
{
	backup_card_logout(c);
	p11_module_free(m);
}

/* ceremony card show */
int backup_card_show(struct ceremony_ctx *ctx, const char *card, FILE *out)
{
	struct p11_module *m = NULL;
	struct backup_card c;
	CK_OBJECT_HANDLE h[CARD_OBJECTS_MAX];
	struct share_claim claim;
	struct seal_limits lim;
	uint8_t *v = NULL;
	size_t n = 0, vlen = 0;
	char label[LABEL_SIZE];
	int r;

	memset(&c, 0, sizeof(c));
	if ((r = one_card_open(ctx, card, NULL, &m, &c)) != 0)
		goto out;
	if ((r = p11wrap_data_find(c.session, BACKUP_APPLICATION, NULL, h, CARD_OBJECTS_MAX, &n)) !=
	    0)
		goto out;
	fprintf(out, "Card token \"%s\" (serial %s): %zu backup share object%s\n", c.token.label,
		c.token.serial, n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		if ((r = p11wrap_data_read(c.session, h[i], &v, &vlen, label, sizeof(label))) != 0)
			goto out;
		fprintf(out, "  object \"%s\" (%zu bytes, sealed)\n", label, vlen);
		if (claim_parse(v, vlen, &claim) == 0 && seal_peek_limits(v, vlen, &lim) == 0)
			fprintf(out,
				"    claims: backup %s of root \"%s\", share %d-%d (group-member), "
				"holder \"%s\"\n    sealed for %s%s%s%s\n"
				"    Argon2id %llu pass(es), %zu KiB%s\n",
				claim.backup, claim.root, claim.group, claim.member, claim.holder,
				claim.bound ? "card \"" : "any card (an older share, not bound to a card)",
				claim.bound ? claim.card_label : "",
				claim.bound ? "\", serial " : "", claim.bound ? claim.card_serial : "",
				lim.opslimit, lim.memlimit / 1024,
				lim.test_limits_allowed ? " (TEST cost, not for production)" : "");
		else
			fprintf(out, "    not a sealed share this version can read\n");
		free(v);
		v = NULL;
	}
	fprintf(out, "  (claims are unauthenticated until \"ceremony card verify\" opens the share)\n");
	r = 0;
out:
	free(v);
	one_card_close(m, &c);
	return r;
}

/* ceremony card verify */
int backup_card_verify(struct ceremony_ctx *ctx, const char *card, const char *blob_path,
		       const char *passphrase_source, int test_cost, FILE *out)
{
	struct p11_module *m = NULL;
	struct backup_card c;
	struct backupblob *b = NULL;
	struct slip39_share_set *set = NULL;
	struct seal_limits lim;
	struct transcript *tr = NULL;
	const char *because;
	CK_OBJECT_HANDLE obj;
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	char id_hex[2 * BACKUPBLOB_ID_LEN + 1];
	int r;

	memset(&c, 0, sizeof(c));
	if ((b = malloc(sizeof(*b))) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if ((r = backupblob_load(blob_path, &raw, &raw_len, b)) != 0)
		goto out;
	if ((r = backup_seal_limits(ctx, test_cost, "accepting a share sealed", out, &lim,
				    &because)) != 0)
		goto out;
	if (ctx->transcript_path != NULL &&
	    (r = ctx_transcript_open(ctx, "card verify", &tr)) != 0)
		goto out;
	if ((r = slip39_share_set_new(&set)) != 0 ||
	    (r = one_card_open(ctx, card, passphrase_source, &m, &c)) != 0 ||
	    (r = backup_card_open_share(&c, b, &lim, NULL, NULL, &set->shares[0], &obj)) != 0)
		goto out;
	hex_encode(b->backup_id, BACKUPBLOB_ID_LEN, id_hex);
	if (tr != NULL &&
	    (r = transcript_append(tr, "card.verify", NULL, NULL,
				   json_pack("{s:o, s:s, s:b, s:s?}", "card", backup_token_json(&c.token),
					     "backup_id", id_hex, "share_matches_commitment", 1,
					     "test_cost_accepted_because", because),
				   NULL)) != 0)
		goto out;
	fprintf(out,
		"%s: the passphrase opens share %u-%u of backup %s (root \"%s\"), and it matches "
		"its commitment in %s\n",
		c.what, set->shares[0].group_index + 1u, set->shares[0].member_index + 1u, id_hex,
		b->root_label, blob_path);
out:
	slip39_share_set_free(set);
	one_card_close(m, &c);
	transcript_close(tr);
	free(raw);
	free(b);
	return r;
}

/* ceremony card wipe */
int backup_card_wipe(struct ceremony_ctx *ctx, const char *card, const char *blob_path,
		     const char *backup_id, FILE *out)
{
	struct p11_module *m = NULL;
	struct backup_card c;
	struct backupblob *b = NULL;
	struct transcript *tr = NULL;
	CK_OBJECT_HANDLE h[CARD_OBJECTS_MAX];
	struct share_claim claim;
	uint8_t *raw = NULL, *v = NULL;
	size_t raw_len = 0, n = 0, vlen = 0, wiped = 0;
	char label[LABEL_SIZE], want[2 * BACKUPBLOB_ID_LEN + 1] = "";
	json_t *labels = json_array();
	const char *tpath;
	int r;

	memset(&c, 0, sizeof(c));
	if (labels == NULL || (b = malloc(sizeof(*b))) == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = ctx_transcript_path(ctx, "card wipe", &tpath)) != 0)
		goto out;
	if (blob_path != NULL) {
		if ((r = backupblob_load(blob_path, &raw, &raw_len, b)) != 0)
			goto out;
		hex_encode(b->backup_id, BACKUPBLOB_ID_LEN, want);
	} else if (backup_id != NULL) {
		size_t i;
		for (i = 0; backup_id[i] != '\0' && i < 2 * BACKUPBLOB_ID_LEN; i++)
			if (!((backup_id[i] >= '0' && backup_id[i] <= '9') ||
			      (backup_id[i] >= 'a' && backup_id[i] <= 'f')))
				break;
		if (i != 2 * BACKUPBLOB_ID_LEN || backup_id[i] != '\0') {
			r = cer_err(CER_E_USAGE,
				    "--backup \"%.40s\": a backup id is %d lowercase hex digits (card "
				    "show lists them); nothing was wiped",
				    backup_id, 2 * BACKUPBLOB_ID_LEN);
			goto out;
		}
		memcpy(want, backup_id, sizeof(want));
	}
	if ((r = ctx_transcript_open(ctx, "card wipe", &tr)) != 0 ||
	    (r = one_card_open(ctx, card, NULL, &m, &c)) != 0)
		goto out;
	if ((r = p11wrap_data_find(c.session, BACKUP_APPLICATION, NULL, h, CARD_OBJECTS_MAX, &n)) !=
	    0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if ((r = p11wrap_data_read(c.session, h[i], &v, &vlen, label, sizeof(label))) != 0)
			goto out;
		if (want[0] == '\0' ||
		    (claim_parse(v, vlen, &claim) == 0 && strcmp(claim.backup, want) == 0)) {
			if ((r = p11_object_destroy(c.session, h[i], label)) != 0)
				goto out;
			json_array_append_new(labels, json_string(label));
			wiped++;
		}
		free(v);
		v = NULL;
	}
	if (wiped == 0) {
		r = cer_err(CER_E_NOTFOUND, "%s holds no share%s%s; nothing was wiped", c.what,
			    want[0] != '\0' ? " of backup " : " objects", want);
		goto out;
	}
	r = transcript_append(tr, "card.wipe", NULL, NULL,
			      json_pack("{s:o, s:s?, s:O}", "card", backup_token_json(&c.token),
					"backup_id", want[0] != '\0' ? want : NULL, "objects",
					labels),
			      NULL);
	if (r != 0)
		goto out;
	fprintf(out, "%s: %zu share object%s destroyed\n", c.what, wiped, wiped == 1 ? "" : "s");
out:
	free(v);
	json_decref(labels);
	one_card_close(m, &c);
	transcript_close(tr);
	free(raw);
	free(b);
	return r;
}

/* Which backups the history records, and how far each got (issue 11 item 8). */
#define CARD_AUDIT_MAX_BACKUPS 1024

struct recorded_backups {
	char id[CARD_AUDIT_MAX_BACKUPS][2 * BACKUPBLOB_ID_LEN + 1];
	int finished[CARD_AUDIT_MAX_BACKUPS]; /* backup.create or backup.rekey, not only intent */
	size_t n;
	const char *file;
};

static int recorded_backup(void *arg, long line, json_t *rec)
{
	struct recorded_backups *rb = arg;
	const char *a = json_string_value(json_object_get(rec, "action"));
	const char *id = json_string_value(json_object_get(json_object_get(rec, "details"),
							   "backup_id"));
	int finished;
	size_t i;

	(void)line;
	if (a == NULL || id == NULL || strlen(id) != 2 * BACKUPBLOB_ID_LEN)
		return 0;
	if (strcmp(a, "backup.intent") == 0)
		finished = 0;
	else if (strcmp(a, "backup.create") == 0 || strcmp(a, "backup.rekey") == 0)
		finished = 1;
	else
		return 0;
	for (i = 0; i < rb->n && strcmp(rb->id[i], id) != 0; i++)
		;
	if (i == rb->n) {
		if (rb->n == CARD_AUDIT_MAX_BACKUPS)
			return cer_err(CER_E_INPUT, "%s: more than %d backups recorded", rb->file,
				       CARD_AUDIT_MAX_BACKUPS);
		memcpy(rb->id[rb->n++], id, 2 * BACKUPBLOB_ID_LEN + 1);
	}
	rb->finished[i] |= finished;
	return 0;
}

int backup_card_audit(struct ceremony_ctx *ctx, const char *card, const char *dir, FILE *out)
{
	struct p11_module *m = NULL;
	struct backup_card c;
	struct recorded_backups *rb = calloc(1, sizeof(*rb));
	CK_OBJECT_HANDLE h[CARD_OBJECTS_MAX];
	struct share_claim claim;
	uint8_t *v = NULL;
	size_t n = 0, vlen = 0, unrecorded = 0;
	char label[LABEL_SIZE];
	int r;

	memset(&c, 0, sizeof(c));
	if (rb == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if ((r = backup_history_each(dir, recorded_backup, rb, &rb->file)) != 0 ||
	    (r = one_card_open(ctx, card, NULL, &m, &c)) != 0 ||
	    (r = p11wrap_data_find(c.session, BACKUP_APPLICATION, NULL, h, CARD_OBJECTS_MAX, &n)) != 0)
		goto out;
	fprintf(out, "Card %s: %zu backup share object%s, against the %zu backup%s %s records\n",
		c.what, n, n == 1 ? "" : "s", rb->n, rb->n == 1 ? "" : "s", dir);
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		if ((r = p11wrap_data_read(c.session, h[i], &v, &vlen, label, sizeof(label))) != 0)
			goto out;
		r = claim_parse(v, vlen, &claim);
		free(v);
		v = NULL;
		if (r != 0) {
			fprintf(out, "  \"%s\": NOT a share of any recorded backup (unreadable)\n",
				label);
			unrecorded++;
			continue;
		}
		while (k < rb->n && strcmp(rb->id[k], claim.backup) != 0)
			k++;
		if (k == rb->n) {
			fprintf(out,
				"  backup %s share %d-%d: NOT RECORDED in any transcript of %s: an "
				"unrecorded backup's share (wipe it: ceremony card wipe %s --backup %s)\n",
				claim.backup, claim.group, claim.member, dir, card, claim.backup);
			unrecorded++;
		} else if (!rb->finished[k]) {
			fprintf(out,
				"  backup %s share %d-%d: only its backup.intent is recorded: a backup "
				"that never finished (wipe it: ceremony card wipe %s --backup %s)\n",
				claim.backup, claim.group, claim.member, card, claim.backup);
			unrecorded++;
		} else
			fprintf(out, "  backup %s share %d-%d: recorded\n", claim.backup, claim.group,
				claim.member);
	}
	r = unrecorded == 0 ? 0 /* every share object above belongs to a finished, recorded backup */
			    : cer_err(CER_E_VERIFY,
				      "%s holds %zu share%s of backups %s does not record as made",
				      c.what, unrecorded, unrecorded == 1 ? "" : "s", dir);
out:
	free(v);
	one_card_close(m, &c);
	free(rb);
	return r;
}

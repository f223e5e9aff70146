/* backup: recovery and drills at a backup token. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "backup_int.h"
#include "ceremony/encode.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/hsm.h"
#include "ceremony/hsmkey.h"
#include "ceremony/leftover.h"
#include "ceremony/p11key.h"
#include "ceremony/p11wrap.h"
#include "ceremony/pem.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"

/* Have the shares in got enough groups with enough members? Picks them into pick. */
static int shares_enough(const struct slip39_share_set *got, struct slip39_share_set *pick)
{
	size_t per_group[SLIP39_MAX_GROUPS] = {0};
	int groups_ok = 0, gt;

	if (got->count == 0)
		return 0;
	gt = got->shares[0].group_threshold;
	for (size_t i = 0; i < got->count; i++)
		per_group[got->shares[i].group_index]++;
	pick->count = 0;
	for (int g = 0; g < SLIP39_MAX_GROUPS && groups_ok < gt; g++) {
		size_t taken = 0;
		int t = 0;
		for (size_t i = 0; i < got->count; i++)
			if (got->shares[i].group_index == g)
				t = got->shares[i].member_threshold;
		if (t == 0 || per_group[g] < (size_t)t)
			continue;
		for (size_t i = 0; i < got->count && taken < (size_t)t; i++)
			if (got->shares[i].group_index == g) {
				pick->shares[pick->count++] = got->shares[i];
				taken++;
			}
		groups_ok++;
	}
	return groups_ok >= gt;
}

/* Read cards in order until enough valid shares are in; combine and check the KEK. */
/*
 * Issue 11 item 7: every failed card opening is recorded (which card, which
 * try, and the reason, never a PIN or passphrase), so a failed attempt leaves
 * a trace even when the recovery goes on with other cards.
 */
static int record_failed_opening(struct transcript *tr, const struct backupblob *b,
				 const struct backup_card *c, int attempt, int code)
{
	char id_hex[2 * BACKUPBLOB_ID_LEN + 1], reason[512];

	if (tr == NULL)
		return 0;
	if (snprintf(reason, sizeof(reason), "%s", cer_err_msg(code)) >= (int)sizeof(reason))
		reason[sizeof(reason) - 1] = '\0';
	hex_encode(b->backup_id, BACKUPBLOB_ID_LEN, id_hex);
	return transcript_append(tr, "backup.card_failed", NULL, NULL,
				 json_pack("{s:s, s:o, s:i, s:s, s:s}", "backup_id", id_hex, "card",
					   backup_token_json(&c->token), "attempt", attempt,
					   "reason", reason, "secret_recorded", "none"),
				 NULL);
}

/*
 * Open one card's share: log in, then open; a passphrase typed at the terminal
 * that does not open the share is asked again, up to BACKUP_PASSPHRASE_TRIES
 * times. Every failure is recorded.
 */
static int card_share_open(struct p11_module *m, struct backup_card *c, const struct backupblob *b,
			   const struct seal_limits *lim, struct transcript *tr,
			   struct slip39_share *s, FILE *out, int *fatal)
{
	int tries = c->passphrase_source == NULL ? BACKUP_PASSPHRASE_TRIES : 1, r, r2;
	CK_OBJECT_HANDLE obj;

	*fatal = 0;
	if ((r = backup_card_login(m, c)) != 0) {
		if ((r2 = record_failed_opening(tr, b, c, 1, r)) != 0) {
			*fatal = 1;
			r = r2;
		}
		return r;
	}
	for (int t = 1; t <= tries; t++) {
		r = backup_card_open_share(c, b, lim, NULL, NULL, s, &obj);
		if (r == 0)
			break;
		if ((r2 = record_failed_opening(tr, b, c, t, r)) != 0) {
			*fatal = 1;
			r = r2;
			break;
		}
		/* Only a wrong passphrase is worth another try; a damaged or foreign share is not. */
		if (r != CER_E_PIN || t == tries)
			break;
		if (out != NULL)
			fprintf(out, "  %s; recorded; try %d of %d\n", cer_err_msg(r), t + 1, tries);
		fprintf(stderr, "ceremony: %s; try %d of %d\n", cer_err_msg(r), t + 1, tries);
	}
	backup_card_logout(c);
	return r;
}

static int collect_and_combine(struct p11_module *m, struct backup_card *cards, size_t n,
			       const struct backupblob *b, const struct seal_limits *lim,
			       struct transcript *tr, struct secret *kek, size_t *used, FILE *out)
{
	struct slip39_share_set *got = NULL, *pick = NULL;
	size_t len = 0, skipped = 0;
	char first[CER_ERR_DETAIL_SIZE] = "";
	int r, enough = 0;

	*used = 0;
	if ((r = slip39_share_set_new(&got)) != 0 || (r = slip39_share_set_new(&pick)) != 0)
		goto out;
	/* A card that cannot give a valid share is skipped (its reason shown), so an
	 * executive who forgot a passphrase can be replaced by another present. */
	for (size_t i = 0; i < n && !enough; i++) {
		struct backup_card *c = &cards[i];
		struct slip39_share *s = &got->shares[got->count];
		int fatal = 0;
		r = card_share_open(m, c, b, lim, tr, s, out, &fatal);
		if (fatal)
			goto out; /* the transcript cannot take the record: stop */
		for (size_t j = 0; r == 0 && j < got->count; j++)
			if (got->shares[j].group_index == s->group_index &&
			    got->shares[j].member_index == s->member_index)
				r = cer_err(CER_E_INPUT, "%s holds share %u-%u, which an earlier card "
							 "already gave",
					    c->what, s->group_index + 1u, s->member_index + 1u);
		if (r == 0 && got->count > 0 &&
		    (s->group_threshold != got->shares[0].group_threshold ||
		     s->group_count != got->shares[0].group_count))
			r = cer_err(CER_E_INPUT, "%s: share parameters differ from the first card's",
				    c->what);
		if (r != 0) {
			if (skipped++ == 0)
				/* first has CER_ERR_DETAIL_SIZE bytes: the detail fits whole */
				text_format_cut(first, sizeof(first), "%s", cer_err_msg(r));
			if (out != NULL)
				fprintf(out, "  skipped: %s\n", cer_err_msg(r));
			continue;
		}
		got->count++;
		*used = i + 1;
		if (out != NULL)
			fprintf(out, "  %s: share %u-%u opened and matches its commitment\n", c->what,
				s->group_index + 1u, s->member_index + 1u);
		enough = shares_enough(got, pick);
	}
	if (!enough) {
		if (skipped > 0)
			r = cer_err(CER_E_REFUSED,
				    "too few valid shares to recover the KEK (%zu of the %zu cards "
				    "given opened); %s",
				    got->count, n, first);
		else
			r = cer_err(CER_E_REFUSED,
				    "the %zu card%s given hold too few valid shares to recover the KEK",
				    got->count, got->count == 1 ? "" : "s");
		goto out;
	}
	if ((r = slip39_combine_shares(pick->shares, pick->count, "", 0, kek->data, kek->cap,
				       &len)) != 0)
		goto out;
	kek->len = len;
	if (len != KEK_LEN) {
		r = cer_err(CER_E_VERIFY, "the shares combine to %zu bytes, not a 32-byte KEK", len);
		goto out;
	}
	r = backupblob_check_kek(b, kek->data);
out:
	slip39_share_set_free(got);
	slip39_share_set_free(pick);
	return r;
}

int backup_kek_from_cards(struct ceremony_ctx *ctx, const char *blob_path,
			  const struct backup_cards *cards, int test_cost, struct secret **kek,
			  size_t *used)
{
	struct p11_module *m = NULL;
	struct backupblob *b = NULL;
	struct backup_card *cs = NULL;
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	int r;

	*kek = NULL;
	if ((b = malloc(sizeof(*b))) == NULL || (cs = calloc(cards->count, sizeof(*cs))) == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = backupblob_load(blob_path, &raw, &raw_len, b)) != 0 ||
	    (r = backup_cards_module(ctx, cards->module, &m)) != 0 ||
	    (r = backup_cards_resolve(m, cards, NULL, cs)) != 0 ||
	    (r = secret_new(SLIP39_MAX_SECRET_LEN, kek)) != 0)
		goto out;
	{
		struct seal_limits lim = test_cost ? seal_limits_test() : seal_limits_production();
		r = collect_and_combine(m, cs, cards->count, b, &lim, NULL, *kek, used, NULL);
	}
out:
	if (r != 0) {
		secret_free(*kek);
		*kek = NULL;
	}
	p11_module_free(m);
	free(cs);
	free(raw);
	free(b);
	return r;
}

/*
 * Issue 9 item 15: is this backup named in a backup.rekey record's supersedes
 * (in any transcript beside the recovery's)? A superseded backup's cards may
 * be with people who have left; recovering it is refused unless told.
 */
struct superseded_scan {
	const char *want;            /* backup id, hex */
	const char *file;            /* the transcript being read (backup_history_each sets it) */
	char by[2 * BACKUPBLOB_ID_LEN + 1]; /* the backup that superseded it */
	char where[PATH_MAX + 32];
	int found;
};

static int superseded_record(void *arg, long line, json_t *rec)
{
	struct superseded_scan *sc = arg;
	const char *action = json_string_value(json_object_get(rec, "action"));
	json_t *d = json_object_get(rec, "details");
	const char *old = json_string_value(
		json_object_get(json_object_get(d, "supersedes"), "backup_id"));
	const char *by = json_string_value(json_object_get(d, "backup_id"));
	int r;

	if (sc->found || action == NULL || strcmp(action, "backup.rekey") != 0 || old == NULL ||
	    strcmp(old, sc->want) != 0)
		return 0;
	sc->found = 1;
	if ((r = text_copy(sc->by, sizeof(sc->by), "the superseding backup id",
			   by != NULL ? by : "?")) != 0 ||
	    (r = text_format(sc->where, sizeof(sc->where), "the rekey record's place", "%s line %ld",
			     sc->file, line)) != 0)
		cer_err_prefix("%s line %ld: ", sc->file, line);
	return r;
}

static int superseded_find(const char *transcript, struct superseded_scan *sc)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(transcript, '/');
	int r;

	if (slash == NULL)
		memcpy(dir, ".", 2);
	else if ((size_t)(slash - transcript) >= sizeof(dir))
		return cer_err(CER_E_INPUT, "%s: path too long", transcript);
	else {
		memcpy(dir, transcript, (size_t)(slash - transcript));
		dir[slash - transcript] = '\0';
	}
	if ((r = backup_history_each(dir, superseded_record, sc, &sc->file)) != 0)
		cer_err_prefix("checking whether the blob was superseded (--allow-superseded skips "
			       "this): ");
	return r;
}

struct recover_state {
	struct hsm h;
	struct hsmkey *hk;
	struct p11_module *card_module;
	struct backup_card *cards;
	struct backupblob *b;
	uint8_t *raw;
	size_t raw_len;
	X509 *root;
	struct transcript *tr;
	struct secret *kek;
	struct p11wrap_mech mech;
	struct seal_limits lim;
	const char *test_cost_because; /* NULL: production cost only */
	struct superseded_scan superseded;
	CK_OBJECT_HANDLE kek_obj, priv, pub;
	struct p11key key;
	struct p11key_evidence ev;
	uint8_t challenge[160];
	size_t challenge_len;
	uint8_t *sig;
	size_t sig_len;
	json_t *approval; /* the quorum's, for the record's details.quorum (NULL: no policy) */
	const char *written[2]; /* the challenge and signature files this run wrote */
};

static int recover_validate(struct recover_state *st, const struct backup_recover_params *p)
{
	unsigned char *der = NULL;
	int n, r;

	if ((st->b = malloc(sizeof(*st->b))) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if ((r = backupblob_load(p->blob_path, &st->raw, &st->raw_len, st->b)) != 0 ||
	    (r = pem_load_cert(p->root_path, &st->root)) != 0)
		return r;
	n = i2d_PUBKEY(X509_get0_pubkey(st->root), &der);
	if (n <= 0)
		return cer_err_ssl(CER_E_INPUT, "%s: cannot read the certificate's key", p->root_path);
	r = (size_t)n == st->b->spki_len && memcmp(der, st->b->spki, st->b->spki_len) == 0
		    ? 0
		    : cer_err(CER_E_INPUT, "%s does not certify the key backed up in %s",
			      p->root_path, p->blob_path);
	OPENSSL_free(der);
	if (r != 0)
		return r;
	if ((p->challenge_out != NULL && (r = file_check_new(p->challenge_out)) != 0) ||
	    (p->signature_out != NULL && (r = file_check_new(p->signature_out)) != 0))
		return r;
	return 0;
}

/* The challenge names the backup and the token and carries 32 fresh random bytes. */
static int prove(struct recover_state *st)
{
	EVP_MD_CTX *mc = NULL;
	uint8_t nonce[SHA256_LEN];
	char nonce_hex[SHA256_HEX_SIZE], id_hex[2 * BACKUPBLOB_ID_LEN + 1];
	size_t len = 0;
	int n, r;

	if ((r = p11_random_mixed(st->h.session, nonce, sizeof(nonce))) != 0)
		return r;
	hex_encode(nonce, sizeof(nonce), nonce_hex);
	hex_encode(st->b->backup_id, BACKUPBLOB_ID_LEN, id_hex);
	n = snprintf((char *)st->challenge, sizeof(st->challenge),
		     "ceremony recovery proof\nbackup %s\ntoken %.16s\nnonce %s\n", id_hex,
		     st->h.token.serial, nonce_hex);
	if (n < 0 || (size_t)n >= sizeof(st->challenge))
		return cer_err(CER_E_INTERNAL, "challenge too long");
	st->challenge_len = (size_t)n;
	if ((r = hsmkey_open(st->h.session, &st->key, &st->hk)) != 0)
		return r;
	const EVP_MD *md = hsmkey_digest(st->key.type);
	if ((mc = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(mc, NULL, md, NULL, hsmkey_pkey(st->hk)) <= 0 ||
	    EVP_DigestSign(mc, NULL, &len, st->challenge, st->challenge_len) <= 0 ||
	    (st->sig = malloc(len)) == NULL ||
	    EVP_DigestSign(mc, st->sig, &len, st->challenge, st->challenge_len) <= 0) {
		r = cer_err_ssl(CER_E_P11, "the recovered key cannot sign the challenge");
		goto out;
	}
	st->sig_len = len;
	EVP_MD_CTX_free(mc);
	if ((mc = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(mc, NULL, md, NULL, X509_get0_pubkey(st->root)) <= 0 ||
	    EVP_DigestVerify(mc, st->sig, st->sig_len, st->challenge, st->challenge_len) != 1) {
		r = cer_err_ssl(CER_E_VERIFY, "the recovered key's signature does not verify with "
					      "the root certificate");
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(mc);
	return r;
}

/* Import the KEK, unwrap, destroy the KEK, recreate the public key, read evidence. */
static int reconstitute(struct recover_state *st, const struct backup_recover_params *p)
{
	struct p11wrap_unwrap_params up = {st->b->key_type, st->b->root_label, st->b->root_id,
					   st->b->root_id_len, p->extractable};
	char label[LABEL_SIZE], id_hex[2 * BACKUPBLOB_ID_LEN + 1];
	int r, r2;

	hex_encode(st->b->backup_id, BACKUPBLOB_ID_LEN, id_hex);
	if ((r = text_format(label, sizeof(label), "KEK label", "ceremony-recovery-kek-%s",
			     id_hex)) != 0)
		return r;
	if ((r = p11wrap_kek_create_unwrap(st->h.session, st->kek->data, st->mech.mechanism, label,
					   &st->kek_obj)) != 0)
		return r;
	r = p11wrap_unwrap(st->h.session, st->mech.mechanism, st->kek_obj, st->b->wrapped,
			   st->b->wrapped_len, &up, &st->priv);
	r2 = p11_object_destroy(st->h.session, st->kek_obj, "the KEK");
	st->kek_obj = CK_INVALID_HANDLE;
	secret_free(st->kek);
	st->kek = NULL;
	if (r != 0 || (r = r2) != 0)
		return r;
	if ((r = p11wrap_pubkey_create(st->h.session, st->b->spki, st->b->spki_len,
				       st->b->root_label, st->b->root_id, st->b->root_id_len,
				       &st->pub)) != 0 ||
	    (r = p11key_find(st->h.session, st->b->root_label, &st->key)) != 0 ||
	    (r = p11key_evidence_read(st->h.session, &st->key, &st->ev)) != 0 ||
	    (r = p11key_evidence_check(&st->ev, p->extractable ? P11KEY_ROOT_WRAP : P11KEY_ROOT_NONE,
				       0, 0, NULL)) != 0)
		return r;
	if (st->key.priv != st->priv || st->key.pub != st->pub || st->ev.sensitive != 1 ||
	    st->ev.extractable != (p->extractable ? 1 : 0))
		return cer_err(CER_E_REFUSED, "the recovered key's attributes are not what was asked "
					      "(SENSITIVE TRUE, EXTRACTABLE %s)",
			       p->extractable ? "TRUE" : "FALSE");
	return 0;
}

static json_t *evidence_json(const struct p11key_evidence *ev)
{
	return json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "CKA_SENSITIVE", ev->sensitive == 1,
			 "CKA_EXTRACTABLE", ev->extractable == 1, "CKA_WRAP_WITH_TRUSTED",
			 ev->wrap_with_trusted == 1, "CKA_SIGN", ev->sign == 1, "CKA_LOCAL",
			 ev->local == 1, "CKA_ALWAYS_SENSITIVE", ev->always_sensitive == 1,
			 "CKA_NEVER_EXTRACTABLE", ev->never_extractable == 1);
}

static int recover_record(struct recover_state *st, const struct backup_recover_params *p,
			  double seconds)
{
	uint8_t md[SHA256_LEN];
	char id_hex[2 * BACKUPBLOB_ID_LEN + 1], key_id[2 * 64 + 1], ch[SHA256_HEX_SIZE],
	    kc[SHA256_HEX_SIZE];
	json_t *ins = json_array(), *outs = json_array(), *e = NULL, *d;
	int r;

	hex_encode(st->b->backup_id, BACKUPBLOB_ID_LEN, id_hex);
	hex_encode(st->b->root_id, st->b->root_id_len, key_id);
	hex_encode(st->b->kek_commitment, SHA256_LEN, kc);
	crypto_hash_sha256(md, st->challenge, st->challenge_len);
	hex_encode(md, SHA256_LEN, ch);
	if ((r = transcript_file_entry(st->tr, p->blob_path, &e)) != 0)
		goto out;
	json_array_append_new(ins, e);
	if ((r = transcript_file_entry(st->tr, p->root_path, &e)) != 0)
		goto out;
	json_array_append_new(ins, e);
	if (p->challenge_out != NULL) {
		if ((r = transcript_file_entry(st->tr, p->challenge_out, &e)) != 0)
			goto out;
		json_array_append_new(outs, e);
	}
	if (p->signature_out != NULL) {
		if ((r = transcript_file_entry(st->tr, p->signature_out, &e)) != 0)
			goto out;
		json_array_append_new(outs, e);
	}
	d = json_pack("{s:s, s:o, s:{s:s, s:s, s:s}, s:s, s:b, s:b, s:{s:s, s:s}, s:o, "
		      "s:{s:s, s:b}, s:f, s:b, s:b, s:s?, s:b}",
		      "backup_id", id_hex, "token", backup_token_json(&st->h.token), "key", "label",
		      st->b->root_label, "id", key_id, "type", key_type_name(st->b->key_type),
		      "kek_commitment", kc, "kek_matches_commitment", 1, "blob_mac_verified", 1,
		      "unwrap", "mechanism", p11wrap_mechanism_name(st->mech.mechanism),
		      "rfc5649_known_answer", p11wrap_kat_name(st->mech.kat), "evidence",
		      evidence_json(&st->ev), "proof", "challenge_sha256", ch,
		      "signature_verified_with_root_certificate", 1, "reconstitution_seconds",
		      seconds, "kek_destroyed_and_wiped", 1, "key_destroyed_after_drill", p->drill,
		      "test_cost_accepted_because", st->test_cost_because,
		      "allow_superseded", p->allow_superseded);
	if (d != NULL && st->approval != NULL) /* the quorum's approvals (docs/quorum.md) */
		json_object_set(d, "quorum", st->approval);
	r = transcript_append(st->tr, p->drill ? "backup.drill" : "backup.recover", ins, outs, d,
			      NULL);
	ins = outs = NULL;
out:
	json_decref(ins);
	json_decref(outs);
	return r;
}

/*
 * After a failure: destroy what this run put on the backup token (the KEK, the
 * recovered key pair) and end the message with the truth: nothing imported or
 * kept, or exactly what is LEFT there, recorded as hsm.leftover.
 */
static int recover_undo(struct recover_state *st, int r)
{
	static const char *const what[3] = {"the imported KEK", "the recovered private key",
					    "the recovered public key"};
	CK_OBJECT_HANDLE obj[3] = {st->kek_obj, st->priv, st->pub};
	char left[640], msg[800], id_hex[2 * 64 + 1], kek_label[LABEL_SIZE];
	size_t used = 0;
	json_t *objects = json_array();
	int w;

	left[0] = '\0';
	hex_encode(st->b->backup_id, BACKUPBLOB_ID_LEN, id_hex);
	w = snprintf(kek_label, sizeof(kek_label), "ceremony-recovery-kek-%s", id_hex);
	if (w < 0 || (size_t)w >= sizeof(kek_label))
		kek_label[0] = '\0';
	for (size_t i = 0; i < 3; i++) {
		CK_RV rv;
		if (obj[i] == CK_INVALID_HANDLE)
			continue;
		/* The first error's message stays; rv goes into ours. */
		rv = st->h.session != NULL ? p11_object_destroy_rv(st->h.session, obj[i])
					   : CKR_SESSION_HANDLE_INVALID;
		if (rv == CKR_OK)
			continue;
		w = snprintf(left + used, sizeof(left) - used, "%s%s \"%s\" on token \"%s\" (%s)",
			     used == 0 ? "" : ", ", what[i],
			     i == 0 ? kek_label : st->b->root_label, st->h.token.label,
			     p11_rv_name(rv) != NULL ? p11_rv_name(rv) : "unknown CKR code");
		if (w > 0 && (size_t)w < sizeof(left) - used)
			used += (size_t)w;
		if (i > 0) { /* the KEK is a session object (CKA_TOKEN FALSE): it ends with the session */
			hex_encode(st->b->root_id, st->b->root_id_len, id_hex);
			json_array_append_new(objects, json_pack("{s:s, s:s, s:s}", "class",
								 i == 1 ? "private key" : "public key",
								 "label", st->b->root_label, "id",
								 id_hex));
		}
	}
	st->kek_obj = st->priv = st->pub = CK_INVALID_HANDLE;
	/* A proof of a recovery that did not happen is not kept either. */
	for (size_t i = 0; i < 2; i++) {
		if (st->written[i] == NULL || remove(st->written[i]) == 0)
			continue;
		w = snprintf(left + used, sizeof(left) - used, "%sfile %s (cannot remove it)",
			     used == 0 ? "" : ", ", st->written[i]);
		if (w > 0 && (size_t)w < sizeof(left) - used)
			used += (size_t)w;
	}
	if (used == 0) {
		json_decref(objects);
		return backup_err_untouched(r, "nothing was imported or kept");
	}
	w = snprintf(msg, sizeof(msg), "not all that this run imported or wrote could be removed: "
		     "LEFT: %s", left);
	if (w < 0 || (size_t)w >= sizeof(msg))
		msg[sizeof(msg) - 1] = '\0';
	r = backup_err_untouched(r, msg);
	if (json_array_size(objects) == 0) {
		json_decref(objects);
		return r;
	}
	return leftover_record(st->tr, r, backup_token_json(&st->h.token), objects,
			       "backup.recover failed");
}

static double elapsed(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* Before any card or the backup token: the quorum approves recovering from this blob. */
static int recover_approve(struct ceremony_ctx *ctx, struct recover_state *st,
			   const struct backup_recover_params *p, FILE *out)
{
	uint8_t md[SHA256_LEN];
	char what[512], id[2 * BACKUPBLOB_ID_LEN + 1];
	int r;

	if ((r = file_sha256(p->blob_path, md)) != 0)
		return r;
	hex_encode(st->b->backup_id, BACKUPBLOB_ID_LEN, id);
	/* The blob by its name (issue 10.7): the record's inputs hold its path and SHA-256. */
	if ((r = text_format(what, sizeof(what), "the approval's text",
			     "%s of backup %s (root key \"%s\") from %s at token \"%s\"",
			     p->drill ? "a recovery drill" : "recovery", id, st->b->root_label,
			     strrchr(p->blob_path, '/') != NULL ? strrchr(p->blob_path, '/') + 1
								 : p->blob_path,
			     p->token)) != 0)
		return r;
	return backup_quorum(ctx, st->tr, QOP_BACKUP_RECOVER, md, what, &p->approve, out,
			     &st->approval);
}

/* The pair a failed recovery left, named by its hsm.leftover beside the transcript, goes. */
static int recover_leftover_clear(struct ceremony_ctx *ctx, struct recover_state *st, FILE *out,
				  int *still_taken)
{
	char dir[PATH_MAX];
	const char *tpath;
	int r, cleared = 0;

	if ((r = ctx_history_dir(ctx, NULL, "backup recover", dir, sizeof(dir), &tpath)) != 0 ||
	    (r = leftover_key_clear(st->tr, st->h.session, &st->h.token,
				    backup_token_json(&st->h.token), st->b->root_label,
				    st->b->root_id, st->b->root_id_len, dir, out, &cleared)) != 0)
		return r;
	*still_taken = !cleared;
	return 0;
}

int backup_recover(struct ceremony_ctx *ctx, const struct backup_recover_params *p, FILE *out)
{
	struct recover_state *st = calloc(1, sizeof(*st));
	struct timespec t0;
	const char *tpath;
	char id_hex[2 * BACKUPBLOB_ID_LEN + 1];
	size_t used = 0;
	double seconds = 0;
	int r, taken = 0;

	if (st == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	st->kek_obj = st->priv = st->pub = CK_INVALID_HANDLE;
	if ((r = ctx_transcript_path(ctx, "backup recover", &tpath)) != 0 ||
	    (r = recover_validate(st, p)) != 0)
		goto out;
	hex_encode(st->b->backup_id, BACKUPBLOB_ID_LEN, id_hex);
	st->superseded.want = id_hex;
	if (!p->allow_superseded && (r = superseded_find(tpath, &st->superseded)) != 0)
		goto out;
	if (st->superseded.found) {
		r = cer_err(CER_E_REFUSED,
			    "%s is backup %s, which backup %s superseded (%s): its cards may be "
			    "in the hands of people who left; give --allow-superseded to recover "
			    "it anyway (recorded)",
			    p->blob_path, id_hex, st->superseded.by, st->superseded.where);
		goto out;
	}
	if ((r = backup_seal_limits(ctx, p->test_cost, "accepting shares sealed", out, &st->lim,
				    &st->test_cost_because)) != 0)
		goto out;
	if ((st->cards = calloc(p->cards.count, sizeof(*st->cards))) == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = ctx_transcript_open(ctx, "backup recover", &st->tr)) != 0 ||
	    (r = recover_approve(ctx, st, p, out)) != 0 || (r = hsm_open(ctx, p->token, &st->h)) != 0)
		goto out;
	if (p->cards.module != NULL &&
	    (r = backup_cards_module(ctx, p->cards.module, &st->card_module)) != 0)
		goto out;
	if ((r = backup_cards_resolve(st->card_module != NULL ? st->card_module : st->h.module,
				      &p->cards, &st->h.token, st->cards)) != 0)
		goto out;
	/* Issue 12 item 3: the token can unwrap RFC 5649, before anyone types a PIN. */
	if ((r = p11wrap_mechanisms_check(st->h.session, CKF_UNWRAP)) != 0 ||
	    (r = hsm_login_user(ctx, &st->h)) != 0 ||
	    (r = p11key_name_taken(st->h.session, st->b->root_label, st->b->root_id,
				   st->b->root_id_len, &taken)) != 0)
		goto out;
	/* A rerun removes the key pair a failed recovery left here (its hsm.leftover). */
	if (taken && (r = recover_leftover_clear(ctx, st, out, &taken)) != 0)
		goto out;
	if (taken) {
		r = cer_err(CER_E_EXISTS, "token \"%s\" already has an object labelled \"%s\" or with "
					  "its CKA_ID",
			    st->h.token.label, st->b->root_label);
		goto out;
	}
	if ((r = p11wrap_kat_run(st->h.session, &st->mech)) != 0)
		goto out;
	hex_encode(st->b->backup_id, BACKUPBLOB_ID_LEN, id_hex);
	fprintf(out, "Recovering key \"%s\" of backup %s at token \"%s\" (serial %s)\n",
		st->b->root_label, id_hex, st->h.token.label, st->h.token.serial);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((r = secret_new(SLIP39_MAX_SECRET_LEN, &st->kek)) != 0 ||
	    (r = collect_and_combine(st->card_module != NULL ? st->card_module : st->h.module,
				     st->cards, p->cards.count, st->b, &st->lim, st->tr, st->kek,
				     &used, out)) != 0)
		goto out;
	fprintf(out, "  KEK combined (%zu card%s asked); it matches the blob's commitment and MAC\n",
		used, used == 1 ? "" : "s");
	if ((r = reconstitute(st, p)) != 0 || (r = prove(st)) != 0)
		goto out;
	seconds = elapsed(&t0);
	fprintf(out, "  unwrapped with %s; KEK destroyed in the HSM and wiped from memory\n"
		     "  fresh challenge signed in the HSM and verified with %s\n"
		     "  reconstituted in %.2f s (first card to verified signature)\n",
		p11wrap_mechanism_name(st->mech.mechanism), p->root_path, seconds);
	if (p->drill) {
		if ((r = p11_object_destroy(st->h.session, st->priv, "the recovered key")) != 0)
			goto out;
		st->priv = CK_INVALID_HANDLE;
		if ((r = p11_object_destroy(st->h.session, st->pub, "the recovered public key")) != 0)
			goto out;
		st->pub = CK_INVALID_HANDLE;
		fprintf(out, "  drill: the reconstituted key was destroyed\n");
	}
	if (p->challenge_out != NULL) {
		if ((r = file_write_new(p->challenge_out, st->challenge, st->challenge_len)) != 0)
			goto out;
		st->written[0] = p->challenge_out;
	}
	if (p->signature_out != NULL) {
		if ((r = file_write_new(p->signature_out, st->sig, st->sig_len)) != 0)
			goto out;
		st->written[1] = p->signature_out;
	}
	if ((r = recover_record(st, p, seconds)) != 0)
		goto out;
	st->priv = st->pub = CK_INVALID_HANDLE; /* kept: the recovery succeeded */
	r = 0;
out:
	if (r != 0)
		r = recover_undo(st, r);
	hsm_session_end(&st->h);
	hsmkey_free(st->hk);
	for (size_t i = 0; st->cards != NULL && i < p->cards.count; i++)
		backup_card_logout(&st->cards[i]);
	hsm_close(&st->h);
	p11_module_free(st->card_module);
	transcript_close(st->tr);
	secret_free(st->kek);
	X509_free(st->root);
	free(st->sig);
	free(st->cards);
	free(st->raw);
	free(st->b);
	json_decref(st->approval);
	free(st);
	return r;
}

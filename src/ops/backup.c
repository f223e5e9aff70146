/* backup: create and rekey — wrap the root key under a fresh KEK and split it to cards. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "backup_int.h"
#include "ceremony/encode.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/passphrase.h"
#include "ceremony/hsm.h"
#include "ceremony/leftover.h"
#include "ceremony/p11key.h"
#include "ceremony/p11probe.h"
#include "ceremony/p11wrap.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"

#define KEK_LABEL_PREFIX "ceremony-backup-kek-"

/* Everything one create step holds, so one cleanup releases it. */
struct create_state {
	struct hsm h;
	struct p11_session *so;
	struct p11_module *card_module; /* NULL when the cards share the HSM's module */
	struct backup_card cards[BACKUP_CARDS_MAX];
	struct secret *passphrases[BACKUP_CARDS_MAX];
	struct seal_key *keys[BACKUP_CARDS_MAX]; /* each card's sealing key, derived once */
	struct secret *so_pin, *user_pin;         /* asked before the KEK exists */
	CK_OBJECT_HANDLE written[BACKUP_CARDS_MAX];
	size_t ncards;
	struct transcript *tr;
	struct secret *kek, *ems; /* ems: the split's encrypted master secret, for subset tests */
	struct slip39_share_set *set, *readback, *scratch;
	struct backupblob *blob, *parsed;
	uint8_t *blob_bytes, *spki, *wrapped, *old_raw;
	size_t blob_len, spki_len, wrapped_len, old_len;
	struct backupblob *old;
	struct p11key key;
	struct p11wrap_mech mech;
	size_t subsets;
	int exhaustive;
	int intent_recorded;
	const char *test_cost_because; /* NULL: production cost */
	json_t *approval; /* the quorum's, for the record's details.quorum (NULL: no policy) */
};

static int total_shares(const struct backup_create_params *p, int *n, int *kmin)
{
	int t[SLIP39_MAX_GROUPS];

	*n = 0;
	if (p->group_count < 1 || p->group_count > SLIP39_MAX_GROUPS || p->group_threshold < 1 ||
	    p->group_threshold > p->group_count)
		return cer_err(CER_E_USAGE, "group threshold %d of %d groups is not possible",
			       p->group_threshold, p->group_count);
	for (int g = 0; g < p->group_count; g++) {
		t[g] = p->groups[g].member_threshold;
		*n += p->groups[g].member_count;
	}
	/* k = the fewest shares that recover: the G smallest member thresholds. */
	for (int i = 0; i < p->group_count; i++)
		for (int j = i + 1; j < p->group_count; j++)
			if (t[j] < t[i]) {
				int x = t[i];
				t[i] = t[j];
				t[j] = x;
			}
	*kmin = 0;
	for (int g = 0; g < p->group_threshold; g++)
		*kmin += t[g];
	return 0;
}

/*
 * A new passphrase that follows the rule (passphrase.h). Typed at the terminal,
 * a weak one is refused with the reason and asked again, up to
 * BACKUP_PASSPHRASE_TRIES times; from a file, once.
 */
static int passphrase_new(struct backup_card *c, struct secret **out)
{
	char prompt[200];
	int tries = c->passphrase_source == NULL ? BACKUP_PASSPHRASE_TRIES : 1, r = 0;

	if (snprintf(prompt, sizeof(prompt), "new share passphrase for %s", c->what) >=
	    (int)sizeof(prompt))
		prompt[sizeof(prompt) - 1] = '\0';
	for (int t = 1; t <= tries; t++) {
		if ((r = secret_read_new(c->passphrase_source, prompt, SLIP39_PASSPHRASE_MAX,
					 out)) != 0)
			return r;
		if ((r = passphrase_check(*out, c->what)) == 0)
			return 0;
		secret_free(*out);
		*out = NULL;
		if (t < tries)
			fprintf(stderr, "ceremony: %s; try %d of %d\n", cer_err_msg(r), t + 1, tries);
	}
	return r;
}

/* Login to every card and take its executive's new passphrase, before any key work. */
static int cards_prepare(struct create_state *st, FILE *out)
{
	int r;

	/* Issue 11 item 9: the rule is on the screen before anyone types. */
	fprintf(out, "  Passphrase rule: %s.\n", passphrase_rule());
	fflush(out);
	for (size_t i = 0; i < st->ncards; i++) {
		struct backup_card *c = &st->cards[i];
		if ((r = backup_card_login(st->card_module != NULL ? st->card_module : st->h.module,
					   c)) != 0 ||
		    (r = passphrase_new(c, &st->passphrases[i])) != 0)
			return r;
	}
	return 0;
}

/*
 * Each executive's sealing key, derived from the passphrase once (Argon2id),
 * on every core at once (at most BACKUP_DERIVE_THREADS, so memory stays about
 * one Argon2id buffer per core); the key seals the share and reads it back.
 */
#define BACKUP_DERIVE_THREADS 2

struct derive_job {
	struct create_state *st;
	const struct seal_limits *lim;
	FILE *out;
	pthread_mutex_t lock;
	size_t next;
	int r;
	size_t failed; /* the card whose derivation failed first */
	char msg[256];
};

static double seconds_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

static void *derive_worker(void *arg)
{
	struct derive_job *j = arg;
	struct timespec t0;

	for (;;) {
		size_t i;
		int r;

		pthread_mutex_lock(&j->lock);
		if (j->r != 0 || j->next == j->st->ncards) {
			pthread_mutex_unlock(&j->lock);
			return NULL;
		}
		i = j->next++;
		pthread_mutex_unlock(&j->lock);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = seal_key_derive(j->st->passphrases[i], j->lim, &j->st->keys[i]);
		pthread_mutex_lock(&j->lock);
		if (r != 0 && j->r == 0) {
			j->r = r;
			j->failed = i;
			if (snprintf(j->msg, sizeof(j->msg), "%s", cer_err_msg(r)) >=
			    (int)sizeof(j->msg))
				j->msg[sizeof(j->msg) - 1] = '\0';
		} else if (r == 0) {
			fprintf(j->out, "  %s: sealing key derived (%.1f s)\n", j->st->cards[i].what,
				seconds_since(&t0));
			fflush(j->out);
		}
		pthread_mutex_unlock(&j->lock);
	}
}

static int keys_derive(struct create_state *st, const struct seal_limits *lim, FILE *out)
{
	struct derive_job j;
	pthread_t t[BACKUP_DERIVE_THREADS];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nt = cores < 1 ? 1 : (size_t)cores, started = 0;

	if (nt > BACKUP_DERIVE_THREADS)
		nt = BACKUP_DERIVE_THREADS;
	if (nt > st->ncards)
		nt = st->ncards;
	memset(&j, 0, sizeof(j));
	j.st = st;
	j.lim = lim;
	j.out = out;
	if (pthread_mutex_init(&j.lock, NULL) != 0)
		return cer_err(CER_E_INTERNAL, "cannot make a lock for the Argon2id threads");
	/* Issue 11 item 10: say what the silence is before it starts. */
	fprintf(out,
		"  deriving each executive's sealing key: Argon2id, %llu pass%s, %zu KiB each, "
		"%zu at a time%s\n",
		lim->opslimit, lim->opslimit == 1 ? "" : "es", lim->memlimit / 1024, nt,
		seal_limits_is_test(lim) ? " (TEST cost)" : " (about a second or more per card)");
	fflush(out);
	for (size_t i = 1; i < nt; i++)
		if (pthread_create(&t[i], NULL, derive_worker, &j) == 0)
			started++;
	derive_worker(&j); /* this thread works too */
	for (size_t i = 1; i <= started; i++)
		pthread_join(t[i], NULL);
	pthread_mutex_destroy(&j.lock);
	/* The keys are derived: the passphrases are no longer needed. */
	for (size_t i = 0; i < st->ncards; i++) {
		secret_free(st->passphrases[i]);
		st->passphrases[i] = NULL;
	}
	if (j.r != 0)
		return cer_err(j.r, "%s: %s", st->cards[j.failed].what, j.msg);
	return 0;
}

/* The root token's SO and user PINs, asked before the KEK exists (issue 9 item 16). */
static int hsm_pins_read(struct ceremony_ctx *ctx, struct create_state *st)
{
	char what[96], prompt[CTX_PROMPT_MAX];
	int r;

	if ((r = text_format(what, sizeof(what), "the PIN prompt", "SO PIN for token \"%s\"",
			     st->h.token.label)) != 0)
		return r;
	ctx_prompt(ctx, 1, what, prompt, sizeof(prompt));
	if ((r = secret_read(ctx->so_pin_source, prompt, SECRET_PIN_MAX, &st->so_pin)) != 0)
		return r;
	if ((r = text_format(what, sizeof(what), "the PIN prompt", "user PIN for token \"%s\"",
			     st->h.token.label)) != 0)
		return r;
	ctx_prompt(ctx, 0, what, prompt, sizeof(prompt));
	return secret_read(ctx->pin_source, prompt, SECRET_PIN_MAX, &st->user_pin);
}

/* The KEK: the HSM's RNG and libsodium's hashed together (BLAKE2b), in secure memory only. */
static int kek_generate(struct create_state *st)
{
	int r;

	if ((r = secret_new(KEK_LEN, &st->kek)) != 0 ||
	    (r = p11_random_mixed(st->h.session, st->kek->data, KEK_LEN)) != 0)
		return r;
	st->kek->len = KEK_LEN;
	return 0;
}

static void kek_wipe(struct create_state *st)
{
	secret_free(st->kek);
	st->kek = NULL;
}

/*
 * research/pkcs11-probe.md Q2: the SO makes the trusted KEK as a public session
 * object in session B and logs out, B stays open; the user logs in on session A
 * and wraps; the KEK is destroyed before B closes. Each PIN is wiped right
 * after its C_Login.
 */
static int wrap_root(struct create_state *st, const char *key_label)
{
	struct p11key_evidence ev;
	CK_OBJECT_HANDLE kek_b = CK_INVALID_HANDLE, kek_a;
	char label[LABEL_SIZE], hex[2 * BACKUPBLOB_ID_LEN + 1];
	int r, r2;

	hex_encode(st->blob->backup_id, BACKUPBLOB_ID_LEN, hex);
	if ((r = text_format(label, sizeof(label), "KEK label", KEK_LABEL_PREFIX "%s", hex)) != 0)
		return r;
	if ((r = p11_session_open(st->h.module, &st->h.token, &st->so)) != 0)
		return r;
	r = p11_login(st->so, CKU_SO, st->so_pin);
	secret_free(st->so_pin);
	st->so_pin = NULL;
	if (r != 0)
		goto out;
	r = p11wrap_kek_create_trusted(st->so, st->kek->data, st->mech.mechanism, label, &kek_b);
	if ((r2 = p11_logout(st->so)) != 0 && r == 0)
		r = r2;
	if (r != 0)
		goto out;
	r = p11_login(st->h.session, CKU_USER, st->user_pin);
	secret_free(st->user_pin);
	st->user_pin = NULL;
	if (r != 0 || (r = p11key_find(st->h.session, key_label, &st->key)) != 0 ||
	    (r = p11key_evidence_read(st->h.session, &st->key, &ev)) != 0)
		goto out;
	if (ev.extractable != 1 || ev.wrap_with_trusted != 1) {
		r = cer_err(CER_E_REFUSED,
			    "key \"%s\" is not exportable under a trusted KEK (EXTRACTABLE and "
			    "WRAP_WITH_TRUSTED must be TRUE)",
			    key_label);
		goto out;
	}
	if ((r = p11key_spki(st->h.session, &st->key, &st->spki, &st->spki_len)) != 0 ||
	    (r = p11wrap_kek_find(st->h.session, label, &kek_a)) != 0 ||
	    (r = p11wrap_wrap(st->h.session, st->mech.mechanism, kek_a, st->key.priv, &st->wrapped,
			      &st->wrapped_len)) != 0)
		goto out;
out:
	if (kek_b != CK_INVALID_HANDLE && (r2 = p11_object_destroy(st->so, kek_b, "the KEK")) != 0 &&
	    r == 0)
		r = r2;
	p11_session_close(st->so);
	st->so = NULL;
	return r;
}

/* Split the KEK, commit to each share, and encode the blob. */
static int blob_build(struct create_state *st, const struct backup_create_params *p)
{
	struct slip39_split_params sp = {1, 0, p->group_threshold, p->group_count, p->groups};
	struct secret *packed = NULL;
	struct backupblob *b = st->blob;
	int r;

	if ((r = slip39_split(st->kek->data, KEK_LEN, "", 0, &sp, NULL, &st->set)) != 0)
		return r;
	if (st->set->count != st->ncards)
		return cer_err(CER_E_INTERNAL, "split gave %zu shares for %zu cards", st->set->count,
			       st->ncards);
	if ((r = secret_new(SLIP39_PACKED_MAX, &packed)) != 0)
		return r;
	b->key_type = st->key.type;
	memcpy(b->root_label, st->key.label, strlen(st->key.label) + 1);
	memcpy(b->root_id, st->key.id, st->key.id_len);
	b->root_id_len = st->key.id_len;
	b->spki = st->spki;
	b->spki_len = st->spki_len;
	memcpy(b->root_serial, st->h.token.serial, strlen(st->h.token.serial) + 1);
	b->mechanism = (uint32_t)st->mech.mechanism;
	b->kat = (uint8_t)st->mech.kat;
	randombytes_buf(b->salt, sizeof(b->salt));
	if ((r = backupblob_kek_commitment(st->kek->data, b->salt, b->kek_commitment)) != 0)
		goto out;
	b->slip39_id = st->set->shares[0].id;
	b->share_count = st->set->count;
	for (size_t i = 0; i < st->set->count; i++) {
		const struct slip39_share *s = &st->set->shares[i];
		if ((r = slip39_share_pack(s, packed->data, packed->cap, &packed->len)) != 0 ||
		    (r = backupblob_share_commitment(b->salt, b->backup_id, s->group_index,
						     s->member_index, packed->data, packed->len,
						     b->shares[i].commitment)) != 0)
			goto out;
		b->shares[i].group_index = s->group_index;
		b->shares[i].member_index = s->member_index;
	}
	b->wrapped = st->wrapped;
	b->wrapped_len = st->wrapped_len;
	if ((r = backupblob_encode(b, st->kek->data, &st->blob_bytes, &st->blob_len)) != 0 ||
	    (r = backupblob_parse(st->blob_bytes, st->blob_len, "the new blob", st->parsed)) != 0 ||
	    (r = backupblob_check_kek(st->parsed, st->kek->data)) != 0)
		goto out;
out:
	secret_free(packed);
	return r;
}

/* Seal each share with its executive's key, write it, read it back with that key and check it. */
static int cards_write(struct create_state *st, const struct seal_limits *lim, FILE *out)
{
	struct secret *packed = NULL;
	uint8_t *sealed = NULL;
	size_t sealed_len = 0, meta_len = 0;
	char label[LABEL_SIZE], *meta = NULL;
	CK_OBJECT_HANDLE obj;
	int r;

	if ((r = secret_new(SLIP39_PACKED_MAX, &packed)) != 0)
		return r;
	for (size_t i = 0; i < st->ncards; i++) {
		struct backup_card *c = &st->cards[i];
		const struct slip39_share *s = &st->set->shares[i];
		unsigned g = s->group_index + 1u, m = s->member_index + 1u;
		if ((r = slip39_share_pack(s, packed->data, packed->cap, &packed->len)) != 0 ||
		    (r = backup_share_label(st->key.label, st->blob->backup_id, g, m, label,
					    sizeof(label))) != 0 ||
		    (r = backup_share_meta(st->key.label, st->blob->backup_id, s->id, g, m,
					   c->holder, &c->token, &meta, &meta_len)) != 0 ||
		    (r = seal_share_with_key(st->keys[i], packed->data, packed->len,
					     (const uint8_t *)meta, meta_len, &sealed, &sealed_len)) != 0 ||
		    (r = p11wrap_data_create(c->session, BACKUP_APPLICATION, label, sealed,
					     sealed_len, &st->written[i])) != 0)
			goto out;
		free(meta);
		free(sealed);
		meta = NULL;
		sealed = NULL;
		/* Read back through the path recovery uses, with the key derived at sealing. */
		if ((r = backup_card_open_share(c, st->parsed, lim, NULL, st->keys[i],
						&st->readback->shares[i], &obj)) != 0)
			goto out;
		st->readback->count = i + 1;
		fprintf(out, "  %s: share %u-%u written, read back, checked against its commitment\n",
			c->what, g, m);
	}
	r = 0;
out:
	free(meta);
	free(sealed);
	secret_free(packed);
	return r;
}

/*
 * Subset testing: every qualifying subset (or a covering set when there are
 * too many). The first subset is combined in full and its KEK checked against
 * the blob's commitment and MAC (the KEK itself is gone by then); every other
 * subset is interpolated on the Shamir layer only and must give the same
 * encrypted master secret, which decrypts to that KEK (issue 13 item 4: no
 * PBKDF2 per subset).
 */
struct combos {
	struct create_state *st;
	const struct backup_create_params *p;
	size_t members[SLIP39_MAX_GROUPS][SLIP39_MAX_MEMBERS]; /* indices into readback */
	size_t nmembers[SLIP39_MAX_GROUPS];
	int chosen[SLIP39_MAX_GROUPS];
	size_t pos;
	int have_ems;
	struct secret *out;
	struct slip39_combiner *combiner;
};

static int combine_check(struct combos *cx)
{
	struct create_state *st = cx->st;
	size_t len = 0;
	int r;

	if (!cx->have_ems) {
		r = slip39_combine_shares(st->scratch->shares, cx->pos, "", 0, cx->out->data,
					  cx->out->cap, &len);
		if (r == 0 && len != KEK_LEN)
			r = cer_err(CER_E_VERIFY, "a subset of the cards combines to %zu bytes", len);
		if (r == 0 && backupblob_check_kek(st->parsed, cx->out->data) != 0)
			r = cer_err(CER_E_VERIFY, "a subset of the cards combines to a KEK the blob "
						  "does not commit to");
		if (r == 0 && (r = slip39_combine_ems(st->scratch->shares, cx->pos, st->ems->data,
						      st->ems->cap, &st->ems->len)) == 0)
			cx->have_ems = 1;
		sodium_memzero(cx->out->data, cx->out->cap);
	} else {
		r = slip39_combiner_ems(cx->combiner, st->scratch->shares, cx->pos, cx->out->data,
					cx->out->cap, &len);
		if (r == 0 && (len != st->ems->len ||
			       sodium_memcmp(cx->out->data, st->ems->data, len) != 0))
			r = cer_err(CER_E_VERIFY, "a subset of the cards combines to another KEK");
	}
	st->subsets++;
	return r;
}

/* Exhaustive: every member subset of every group at this level and below. */
static int members_walk(struct combos *cx, int level)
{
	int g, t, n, idx[SLIP39_MAX_MEMBERS], r;
	size_t base = cx->pos;

	if (level == cx->p->group_threshold)
		return combine_check(cx);
	g = cx->chosen[level];
	t = cx->p->groups[g].member_threshold;
	n = (int)cx->nmembers[g];
	for (int i = 0; i < t; i++)
		idx[i] = i;
	for (;;) {
		for (int i = 0; i < t; i++)
			cx->st->scratch->shares[base + (size_t)i] =
				cx->st->readback->shares[cx->members[g][idx[i]]];
		cx->pos = base + (size_t)t;
		if ((r = members_walk(cx, level + 1)) != 0)
			return r;
		int i = t - 1;
		while (i >= 0 && idx[i] == n - t + i)
			i--;
		if (i < 0)
			break;
		idx[i]++;
		for (int j = i + 1; j < t; j++)
			idx[j] = idx[j - 1] + 1;
	}
	cx->pos = base;
	return 0;
}

/* Covering: in each chosen group, the member_threshold members from rotation rot on. */
static int members_rotation(struct combos *cx, int rot)
{
	cx->pos = 0;
	for (int level = 0; level < cx->p->group_threshold; level++) {
		int g = cx->chosen[level], t = cx->p->groups[g].member_threshold;
		size_t n = cx->nmembers[g];
		for (int i = 0; i < t; i++)
			cx->st->scratch->shares[cx->pos++] =
				cx->st->readback->shares[cx->members[g][((size_t)rot + (size_t)i) % n]];
	}
	return combine_check(cx);
}

static double choose(int n, int k)
{
	double c = 1;
	for (int i = 1; i <= k; i++)
		c = c * (n - k + i) / i;
	return c;
}

/* The next combination of G of n in gi (sorted), or 0 after the last. */
static int combination_next(int *gi, int G, int n)
{
	int i = G - 1;

	while (i >= 0 && gi[i] == n - G + i)
		i--;
	if (i < 0)
		return 0;
	gi[i]++;
	for (int j = i + 1; j < G; j++)
		gi[j] = gi[j - 1] + 1;
	return 1;
}

static int subsets_test(struct create_state *st, const struct backup_create_params *p)
{
	struct combos cx;
	int G = p->group_threshold, n = p->group_count, gi[SLIP39_MAX_GROUPS], r;
	double total = 0;

	memset(&cx, 0, sizeof(cx));
	cx.st = st;
	cx.p = p;
	for (size_t i = 0; i < st->readback->count; i++) {
		const struct slip39_share *s = &st->readback->shares[i];
		cx.members[s->group_index][cx.nmembers[s->group_index]++] = i;
	}
	if ((r = secret_new(SLIP39_MAX_SECRET_LEN, &cx.out)) != 0 ||
	    (r = secret_new(SLIP39_MAX_SECRET_LEN, &st->ems)) != 0 ||
	    (r = slip39_combiner_new(&cx.combiner)) != 0)
		goto out;
	/* Count the qualifying subsets to choose exhaustive or covering. */
	for (int i = 0; i < G; i++)
		gi[i] = i;
	do {
		double prod = 1;
		for (int i = 0; i < G; i++)
			prod *= choose(p->groups[gi[i]].member_count, p->groups[gi[i]].member_threshold);
		total += prod;
	} while (combination_next(gi, G, n));
	st->exhaustive = total <= BACKUP_SUBSETS_MAX;
	if (st->exhaustive) {
		for (int i = 0; i < G; i++)
			gi[i] = i;
		do {
			memcpy(cx.chosen, gi, sizeof(gi));
			cx.pos = 0;
			if ((r = members_walk(&cx, 0)) != 0)
				goto out;
		} while (combination_next(gi, G, n));
	} else {
		/*
		 * Covering: G consecutive groups from each group on (every group takes part),
		 * and in them every rotation of members (every share takes part, and each is
		 * combined with several different others).
		 */
		for (int g = 0; g < n; g++) {
			int rotations = 0;
			for (int i = 0; i < G; i++)
				gi[i] = (g + i) % n;
			memcpy(cx.chosen, gi, sizeof(gi));
			for (int i = 0; i < G; i++)
				if (p->groups[gi[i]].member_count > rotations)
					rotations = p->groups[gi[i]].member_count;
			for (int rot = 0; rot < rotations; rot++)
				if ((r = members_rotation(&cx, rot)) != 0)
					goto out;
		}
	}
	r = 0;
out:
	secret_free(cx.out);
	slip39_combiner_free(cx.combiner);
	return r;
}

static int hmac_hex(const uint8_t key[SHA256_LEN], const char *text, char out[SHA256_HEX_SIZE])
{
	uint8_t mac[SHA256_LEN];

	if (crypto_auth_hmacsha256(mac, (const uint8_t *)text, strlen(text), key) != 0)
		return cer_err(CER_E_CRYPTO, "HMAC-SHA256 failed");
	hex_encode(mac, sizeof(mac), out);
	return 0;
}

/* The confidential values (parameters, cards) as canonical text, and their commitments. */
static int records_make(struct create_state *st, const struct backup_create_params *p, int n,
			int kmin, const char *blob_sha, json_t **pub, char **internal)
{
	uint8_t salt[SHA256_LEN];
	char salt_hex[SHA256_HEX_SIZE], pc[SHA256_HEX_SIZE], cc[SHA256_HEX_SIZE],
	    id_hex[2 * BACKUPBLOB_ID_LEN + 1], label[LABEL_SIZE];
	json_t *groups = json_array(), *cards = json_array(), *params = NULL, *rec = NULL;
	char *ptext = NULL, *ctext = NULL;
	int r = 0;

	randombytes_buf(salt, sizeof(salt));
	hex_encode(salt, sizeof(salt), salt_hex);
	hex_encode(st->blob->backup_id, BACKUPBLOB_ID_LEN, id_hex);
	for (int g = 0; groups != NULL && g < p->group_count; g++)
		json_array_append_new(groups, json_pack("{s:i, s:i}", "threshold",
							p->groups[g].member_threshold, "shares",
							p->groups[g].member_count));
	for (size_t i = 0; cards != NULL && i < st->ncards; i++) {
		const struct slip39_share *s = &st->set->shares[i];
		char share[16];
		if ((r = text_format(share, sizeof(share), "share number", "%u-%u",
				     s->group_index + 1u, s->member_index + 1u)) != 0 ||
		    (r = backup_share_label(st->key.label, st->blob->backup_id, s->group_index + 1u,
					    s->member_index + 1u, label, sizeof(label))) != 0)
			goto out;
		json_array_append_new(cards, json_pack("{s:i, s:s, s:s, s:s, s:s, s:s}", "card",
						       (int)i + 1, "token", st->cards[i].token.label,
						       "serial", st->cards[i].token.serial, "object",
						       label, "share", share, "holder",
						       st->cards[i].holder));
	}
	params = json_pack("{s:i, s:i, s:i, s:O}", "k", kmin, "n", n, "group_threshold",
			   p->group_threshold, "groups", groups);
	if (params == NULL || cards == NULL ||
	    (ptext = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS)) == NULL ||
	    (ctext = json_dumps(cards, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = hmac_hex(salt, ptext, pc)) != 0 || (r = hmac_hex(salt, ctext, cc)) != 0)
		goto out;
	*pub = json_pack("{s:i, s:s, s:s, s:s}", "spare_shares", n - kmin,
			 "parameters_commitment", pc, "cards_commitment", cc, "commitment_scheme",
			 "HMAC-SHA256(salt from the internal record, text)");
	rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "format",
			"ceremony-backup-internal-v1", "backup_id", id_hex, "blob_sha256", blob_sha,
			"salt", salt_hex, "parameters", ptext, "parameters_commitment", pc, "cards",
			ctext, "cards_commitment", cc, "parameters_readable", json_incref(params),
			"cards_readable", json_incref(cards));
	if (*pub == NULL || rec == NULL ||
	    (*internal = json_dumps(rec, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	r = 0;
out:
	sodium_memzero(salt, sizeof(salt));
	free(ptext);
	free(ctext);
	json_decref(groups);
	json_decref(cards);
	json_decref(params);
	json_decref(rec);
	return r;
}

/*
 * Issue 11 item 8: before the first card is written, the transcript says a
 * backup with this id is being made, so a share left by an interrupted step
 * belongs to a recorded backup ("card wipe --backup ID" removes it). Neither k
 * nor n, nor the cards, appear here.
 */
static int record_intent(struct create_state *st, const struct backup_create_params *p)
{
	uint8_t md[SHA256_LEN];
	char id_hex[2 * BACKUPBLOB_ID_LEN + 1], spki_sha[SHA256_HEX_SIZE];
	json_t *d;
	int r;

	hex_encode(st->blob->backup_id, BACKUPBLOB_ID_LEN, id_hex);
	crypto_hash_sha256(md, st->spki, st->spki_len);
	hex_encode(md, SHA256_LEN, spki_sha);
	d = json_pack("{s:s, s:{s:o, s:s, s:s}}", "backup_id", id_hex, "root", "token",
		      backup_token_json(&st->h.token), "key", st->key.label, "spki_sha256",
		      spki_sha);
	if (d == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	/* The blob is not written yet: its path relative to the archive (issue 10.7). */
	if ((r = transcript_note_path(st->tr, p->out_path, d, "blob")) != 0 ||
	    json_object_set_new(d, "next", json_string("shares are written to the cards; "
							 "backup.create or backup.rekey follows")) != 0) {
		json_decref(d);
		return r != 0 ? r : cer_err(CER_E_NOMEM, "out of memory");
	}
	if ((r = transcript_append(st->tr, "backup.intent", NULL, NULL, d, NULL)) != 0)
		return r;
	st->intent_recorded = 1;
	return 0;
}

static int record_step(struct create_state *st, const struct backup_create_params *p, int n,
		       int kmin, const struct seal_limits *lim)
{
	uint8_t md[SHA256_LEN];
	char blob_sha[SHA256_HEX_SIZE], kc[SHA256_HEX_SIZE], id_hex[2 * BACKUPBLOB_ID_LEN + 1],
	    key_id[2 * 64 + 1], spki_sha[SHA256_HEX_SIZE];
	char *internal = NULL;
	json_t *pub = NULL, *outs = NULL, *ins = NULL, *e = NULL, *details = NULL;
	int r;

	crypto_hash_sha256(md, st->blob_bytes, st->blob_len);
	hex_encode(md, SHA256_LEN, blob_sha);
	hex_encode(st->blob->kek_commitment, SHA256_LEN, kc);
	hex_encode(st->blob->backup_id, BACKUPBLOB_ID_LEN, id_hex);
	hex_encode(st->key.id, st->key.id_len, key_id);
	crypto_hash_sha256(md, st->spki, st->spki_len);
	hex_encode(md, SHA256_LEN, spki_sha);
	if ((r = records_make(st, p, n, kmin, blob_sha, &pub, &internal)) != 0)
		goto out;
	if ((r = file_write_new(p->out_path, st->blob_bytes, st->blob_len)) != 0)
		goto out;
	if ((r = file_write_new(p->internal_record, internal, strlen(internal))) != 0) {
		(void)remove(p->out_path);
		goto out;
	}
	outs = json_array();
	if ((r = transcript_file_entry(st->tr, p->out_path, &e)) != 0)
		goto out;
	json_array_append_new(outs, e);
	if ((r = transcript_file_entry(st->tr, p->internal_record, &e)) != 0)
		goto out;
	json_array_append_new(outs, e);
	details = json_pack(
		"{s:s, s:{s:o, s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:s, s:i, s:O, s:b, s:s, "
		"s:{s:I, s:I, s:b, s:s?}, s:b}",
		"backup_id", id_hex, "root", "token", backup_token_json(&st->h.token), "key",
		st->key.label, "id", key_id, "type", key_type_name(st->key.type), "spki_sha256",
		spki_sha, "wrap", "mechanism", p11wrap_mechanism_name(st->mech.mechanism),
		"mechanism_id", st->mech.mechanism == P11WRAP_CKM_AES_KEY_WRAP_KWP ? "0x210B" : "0x210A",
		"rfc5649_known_answer", p11wrap_kat_name(st->mech.kat), "kek_commitment", kc,
		"slip39_identifier", (int)st->blob->slip39_id, "confidential", pub,
		"every_share_read_back_and_checked", 1, "subsets_tested",
		st->exhaustive ? "every qualifying subset" : "a covering set (too many to try all)",
		"seal_cost", "argon2id_opslimit", (json_int_t)lim->opslimit, "argon2id_memlimit_kib",
		(json_int_t)(lim->memlimit / 1024), "test_cost", seal_limits_is_test(lim),
		"test_cost_because", st->test_cost_because,
		"kek_destroyed_and_wiped", 1);
	if (details == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	if (st->approval != NULL) /* the quorum's approvals of this blob (docs/quorum.md) */
		json_object_set(details, "quorum", st->approval);
	if (st->old != NULL) {
		char old_id[2 * BACKUPBLOB_ID_LEN + 1];
		hex_encode(st->old->backup_id, BACKUPBLOB_ID_LEN, old_id);
		if ((r = transcript_file_entry(st->tr, p->supersedes, &e)) != 0)
			goto out;
		ins = json_pack("[o]", e);
		json_object_set_new(details, "supersedes",
				    json_pack("{s:s, s:O}", "backup_id", old_id, "blob",
					      json_array_get(ins, 0)));
	}
	r = transcript_append(st->tr, st->old != NULL ? "backup.rekey" : "backup.create", ins, outs,
			      details, NULL);
	ins = outs = details = NULL;
	if (r != 0) {
		(void)remove(p->out_path);
		(void)remove(p->internal_record);
	}
out:
	free(internal);
	json_decref(pub);
	json_decref(ins);
	json_decref(outs);
	json_decref(details);
	return r;
}

static int create_validate(struct create_state *st, const struct backup_create_params *p,
			   int *n, int *kmin)
{
	int r;

	if ((r = total_shares(p, n, kmin)) != 0)
		return r;
	if ((size_t)*n != p->cards.count)
		return cer_err(CER_E_USAGE, "%d shares need %d cards, but %zu were given with --cards",
			       *n, *n, p->cards.count);
	if ((r = file_check_new(p->out_path)) != 0 || (r = file_check_new(p->internal_record)) != 0)
		return r;
	if (strcmp(p->out_path, p->internal_record) == 0)
		return cer_err(CER_E_USAGE, "the blob and the internal record must be two files");
	if (p->supersedes != NULL) {
		if ((st->old = malloc(sizeof(*st->old))) == NULL)
			return cer_err(CER_E_NOMEM, "out of memory");
		if ((r = backupblob_load(p->supersedes, &st->old_raw, &st->old_len, st->old)) != 0)
			return r;
		if (strcmp(st->old->root_label, p->key_label) != 0)
			return cer_err(CER_E_INPUT, "%s backs up key \"%s\", not \"%s\"", p->supersedes,
				       st->old->root_label, p->key_label);
	}
	return 0;
}

/*
 * After a failure: destroy every share this run wrote, and end the message with
 * the truth: no card changed, or which share objects are LEFT on which card
 * (the message, read by the operator) and that shares of this backup may remain
 * (the transcript: no card names or counts, which would tell n).
 */
static int create_undo(struct create_state *st, int r)
{
	char left[768], what[1024], label[LABEL_SIZE], id_hex[2 * BACKUPBLOB_ID_LEN + 1];
	size_t used = 0;
	int w;

	left[0] = '\0';
	for (size_t i = 0; i < st->ncards; i++) {
		struct backup_card *c = &st->cards[i];
		const struct slip39_share *s;
		CK_RV rv;
		if (st->written[i] == CK_INVALID_HANDLE || c->session == NULL)
			continue;
		/* The first error's message stays; rv goes into ours. */
		rv = p11_object_destroy_rv(c->session, st->written[i]);
		if (rv == CKR_OK) {
			st->written[i] = CK_INVALID_HANDLE;
			continue;
		}
		s = &st->set->shares[i]; /* written[i] is set only after the split */
		if (backup_share_label(st->key.label, st->blob->backup_id, s->group_index + 1u,
				       s->member_index + 1u, label, sizeof(label)) != 0)
			label[0] = '\0'; /* too long to name; the card is still named */
		w = snprintf(left + used, sizeof(left) - used, "%sshare \"%s\" on %s (%s)",
			     used == 0 ? "" : ", ", label, c->what,
			     p11_rv_name(rv) != NULL ? p11_rv_name(rv) : "unknown CKR code");
		if (w > 0 && (size_t)w < sizeof(left) - used)
			used += (size_t)w;
	}
	if (used == 0)
		return backup_err_untouched(r, st->intent_recorded
						       ? "no backup was made (no card or blob changed; "
							 "the transcript holds its backup.intent record)"
						       : "no backup was made (no card, blob or transcript "
							 "changed)");
	w = snprintf(what, sizeof(what),
		     "no backup was made and no blob kept, but destroying its shares failed: LEFT "
		     "on the cards: %s",
		     left);
	if (w < 0 || (size_t)w >= sizeof(what))
		what[sizeof(what) - 1] = '\0';
	r = backup_err_untouched(r, what);
	hex_encode(st->blob->backup_id, BACKUPBLOB_ID_LEN, id_hex);
	return leftover_record(st->tr, r, backup_token_json(&st->h.token),
			       json_pack("[{s:s, s:s, s:s, s:s}]", "class", "data", "application",
					 BACKUP_APPLICATION, "backup_id", id_hex, "where",
					 "some of this backup's cards"),
			       "backup.create failed");
}

static void create_free(struct create_state *st)
{
	for (size_t i = 0; i < st->ncards; i++) {
		backup_card_logout(&st->cards[i]);
		secret_free(st->passphrases[i]);
		seal_key_free(st->keys[i]);
	}
	secret_free(st->so_pin);
	secret_free(st->user_pin);
	secret_free(st->ems);
	p11_session_close(st->so);
	hsm_close(&st->h);
	p11_module_free(st->card_module);
	transcript_close(st->tr);
	secret_free(st->kek);
	slip39_share_set_free(st->set);
	slip39_share_set_free(st->readback);
	slip39_share_set_free(st->scratch);
	free(st->blob);
	free(st->parsed);
	free(st->old);
	free(st->old_raw);
	free(st->blob_bytes);
	free(st->spki);
	free(st->wrapped);
}

static enum quorum_op quorum_op_backup(const struct backup_create_params *p)
{
	return p->supersedes != NULL ? QOP_BACKUP_REKEY : QOP_BACKUP_CREATE;
}

/* The blob is built, nothing is written: the quorum approves its exact bytes. */
static int blob_approve(struct ceremony_ctx *ctx, struct create_state *st,
			const struct backup_create_params *p, FILE *out)
{
	uint8_t md[SHA256_LEN];
	char what[512], id[2 * BACKUPBLOB_ID_LEN + 1];
	int r;

	crypto_hash_sha256(md, st->blob_bytes, st->blob_len);
	hex_encode(st->blob->backup_id, BACKUPBLOB_ID_LEN, id);
	/* Files by their names: the statement is public, the machine's folders are not
	 * (issue 10.7); the record's outputs hold the paths in the archive. */
	const char *blob = strrchr(p->out_path, '/'), *old = NULL;
	if (p->supersedes != NULL)
		old = strrchr(p->supersedes, '/') != NULL ? strrchr(p->supersedes, '/') + 1 : p->supersedes;
	if ((r = text_format(what, sizeof(what), "the approval's text",
			     "backup %s of root key \"%s\" (token \"%s\"), blob %s%s%s", id,
			     p->key_label, st->h.token.label, blob != NULL ? blob + 1 : p->out_path,
			     old != NULL ? ", superseding " : "", old != NULL ? old : "")) != 0)
		return r;
	return backup_quorum(ctx, st->tr, quorum_op_backup(p), md, what, &p->approve, out,
			     &st->approval);
}

int backup_create(struct ceremony_ctx *ctx, const struct backup_create_params *p, FILE *out)
{
	struct create_state *st = calloc(1, sizeof(*st));
	struct seal_limits lim;
	const char *tpath, *cmd = p->supersedes != NULL ? "backup rekey" : "backup create";
	char hex[2 * BACKUPBLOB_ID_LEN + 1];
	int n = 0, kmin = 0, r;

	if (st == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (size_t i = 0; i < BACKUP_CARDS_MAX; i++)
		st->written[i] = CK_INVALID_HANDLE;
	st->ncards = p->cards.count;
	/* STYLE 9: every input and output before the first login. */
	if ((r = ctx_transcript_path(ctx, cmd, &tpath)) != 0 ||
	    (r = create_validate(st, p, &n, &kmin)) != 0 ||
	    (r = approve_precheck(ctx, quorum_op_backup(p), NULL, &p->approve)) != 0 ||
	    (r = backup_seal_limits(ctx, p->test_cost, "sealing the shares", out, &lim,
				    &st->test_cost_because)) != 0)
		goto out;
	if ((st->blob = calloc(1, sizeof(*st->blob))) == NULL ||
	    (st->parsed = calloc(1, sizeof(*st->parsed))) == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = slip39_share_set_new(&st->readback)) != 0 ||
	    (r = slip39_share_set_new(&st->scratch)) != 0)
		goto out;
	randombytes_buf(st->blob->backup_id, BACKUPBLOB_ID_LEN);
	if ((r = ctx_transcript_open(ctx, "backup", &st->tr)) != 0 ||
	    (r = hsm_open(ctx, p->token, &st->h)) != 0)
		goto out;
	/* Issue 12 item 3: a token without RFC 5649 wrap is refused before any prompt. */
	if ((r = p11probe_check(st->h.module, &st->h.token, P11PROBE_WRAP)) != 0) {
		cer_err_prefix("backup create: nothing was asked or changed: ");
		goto out;
	}
	if (p->cards.module != NULL && (r = backup_cards_module(ctx, p->cards.module,
								 &st->card_module)) != 0)
		goto out;
	if ((r = backup_cards_resolve(st->card_module != NULL ? st->card_module : st->h.module,
				      &p->cards, &st->h.token, st->cards)) != 0)
		goto out;
	/* Issue 12 item 3: the token's RFC 5649 wrap, asked and tried, before anyone types. */
	if ((r = p11wrap_mechanisms_check(st->h.session, CKF_WRAP)) != 0 ||
	    (r = p11wrap_kat_run(st->h.session, &st->mech)) != 0)
		goto out;
	/* Issue 9 item 16: every PIN and passphrase in, and the sealing keys derived, before
	 * the KEK exists; it is wiped as soon as the blob is built. */
	if ((r = cards_prepare(st, out)) != 0 || (r = keys_derive(st, &lim, out)) != 0 ||
	    (r = hsm_pins_read(ctx, st)) != 0)
		goto out;
	if ((r = kek_generate(st)) != 0 || (r = wrap_root(st, p->key_label)) != 0)
		goto out;
	if (st->old != NULL && (st->old->spki_len != st->spki_len ||
				memcmp(st->old->spki, st->spki, st->spki_len) != 0)) {
		r = cer_err(CER_E_INPUT, "%s backs up another key than \"%s\" on token \"%s\"",
			    p->supersedes, p->key_label, st->h.token.label);
		goto out;
	}
	if ((r = blob_build(st, p)) != 0)
		goto out;
	kek_wipe(st);
	hex_encode(st->blob->backup_id, BACKUPBLOB_ID_LEN, hex);
	fprintf(out, "Backup %s of key \"%s\" (token \"%s\", serial %s)\n", hex, p->key_label,
		st->h.token.label, st->h.token.serial);
	fprintf(out,
		"  wrapped with %s (RFC 5649 known answer: %s); KEK destroyed in the HSM and, "
		"once split and committed to, wiped from memory\n",
		p11wrap_mechanism_name(st->mech.mechanism), p11wrap_kat_name(st->mech.kat));
	if ((r = record_intent(st, p)) != 0 || (r = blob_approve(ctx, st, p, out)) != 0)
		goto out;
	if ((r = cards_write(st, &lim, out)) != 0 || (r = subsets_test(st, p)) != 0)
		goto out;
	fprintf(out,
		"  all %zu shares verified; %zu qualifying subset%s recover the KEK the blob "
		"commits to (%s)\n",
		st->ncards, st->subsets, st->subsets == 1 ? "" : "s",
		st->exhaustive ? "every one tried" : "a covering set: every group and every share");
	if ((r = record_step(st, p, n, kmin, &lim)) != 0)
		goto out;
	fprintf(out, "  Blob written to %s; internal record %s\n", p->out_path, p->internal_record);
	r = 0;
out:
	if (r != 0)
		r = create_undo(st, r);
	json_decref(st->approval);
	create_free(st);
	free(st);
	return r;
}

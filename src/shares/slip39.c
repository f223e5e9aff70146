/*
 * SLIP-39 split and combine: passphrase encryption (Feistel), two-level groups
 * and the combining checks. Share layout and words are in slip39_mnemonic.c.
 */
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "ceremony/err.h"
#include "ceremony/slip39.h"

#define SLIP39_ROUNDS 4
#define SLIP39_BASE_ITERATIONS 10000
#define SLIP39_HALF_MAX (SLIP39_MAX_SECRET_LEN / 2)
#define SLIP39_SALT_PREFIX "shamir"
#define SLIP39_SALT_PREFIX_LEN 6

/* Everything secret the Feistel cipher touches, in one sodium_malloc block. */
struct slip39_feistel {
	uint8_t password[1 + SLIP39_PASSPHRASE_MAX];
	uint8_t salt[SLIP39_SALT_PREFIX_LEN + 2 + SLIP39_HALF_MAX];
	uint8_t left[SLIP39_HALF_MAX];
	uint8_t right[SLIP39_HALF_MAX];
	uint8_t f[SLIP39_HALF_MAX];
};

/* Working values of a split or a combine: the EMS and the group secrets. */
struct slip39_work {
	uint8_t ems[SLIP39_MAX_SECRET_LEN];
	uint8_t group_secrets[SLIP39_MAX_GROUPS * SLIP39_MAX_SECRET_LEN];
	uint8_t member_values[SLIP39_MAX_MEMBERS * SLIP39_MAX_SECRET_LEN];
};

static int slip39_alloc(size_t size, void **out)
{
	void *p = sodium_malloc(size);

	*out = NULL;
	if (p == NULL)
		return cer_err(CER_E_NOMEM, "cannot allocate %zu bytes of secure memory", size);
	sodium_memzero(p, size);
	*out = p;
	return 0;
}

int slip39_share_set_new(struct slip39_share_set **out)
{
	return slip39_alloc(sizeof(**out), (void **)out);
}

void slip39_share_set_free(struct slip39_share_set *set)
{
	sodium_free(set); /* wipes first; NULL is fine */
}

/* SLIP-39 "Passphrase": printable ASCII only, so every implementation reads the same bytes. */
static int slip39_check_passphrase(const char *passphrase, size_t len)
{
	uint32_t bad = 0;

	if (len > SLIP39_PASSPHRASE_MAX)
		return cer_err(CER_E_INPUT, "the passphrase is longer than %d bytes",
			       SLIP39_PASSPHRASE_MAX);
	for (size_t i = 0; i < len; i++) {
		uint32_t c = (unsigned char)passphrase[i];
		bad |= (uint32_t)(c < 0x20u) | (uint32_t)(c > 0x7eu);
	}
	if (bad)
		return cer_err(CER_E_INPUT, "the passphrase must be printable ASCII (SLIP-39)");
	return 0;
}

/*
 * SLIP-39 "Encryption of the master secret": a 4-round Feistel network whose
 * round function is F(i, R) = PBKDF2-HMAC-SHA256(i || passphrase,
 * salt || R, 2500 << e, n/2), salt = "shamir" || id when ext = 0, empty when
 * ext = 1. Encryption runs rounds 0..3, decryption 3..0; output is R || L.
 */
static int slip39_feistel(const uint8_t *in, size_t len, const char *passphrase,
			  size_t passphrase_len, int e, uint16_t id, int ext, int decrypt,
			  uint8_t *out)
{
	struct slip39_feistel *w = NULL;
	size_t half = len / 2, prefix = 0;
	int r;

	if ((r = slip39_alloc(sizeof(*w), (void **)&w)) != 0)
		return r;
	memcpy(w->password + 1, passphrase, passphrase_len);
	if (!ext) {
		memcpy(w->salt, SLIP39_SALT_PREFIX, SLIP39_SALT_PREFIX_LEN);
		w->salt[SLIP39_SALT_PREFIX_LEN] = (uint8_t)(id >> 8);
		w->salt[SLIP39_SALT_PREFIX_LEN + 1] = (uint8_t)id;
		prefix = SLIP39_SALT_PREFIX_LEN + 2;
	}
	memcpy(w->left, in, half);
	memcpy(w->right, in + half, half);
	for (int k = 0; k < SLIP39_ROUNDS; k++) {
		int round = decrypt ? SLIP39_ROUNDS - 1 - k : k;

		w->password[0] = (uint8_t)round;
		memcpy(w->salt + prefix, w->right, half);
		if (PKCS5_PBKDF2_HMAC((const char *)w->password, (int)(passphrase_len + 1), w->salt,
				      (int)(prefix + half),
				      (SLIP39_BASE_ITERATIONS << e) / SLIP39_ROUNDS, EVP_sha256(),
				      (int)half, w->f) <= 0) {
			r = cer_err_ssl(CER_E_CRYPTO, "PBKDF2-HMAC-SHA256 for the SLIP-39 cipher "
						      "failed");
			goto out;
		}
		for (size_t i = 0; i < half; i++)
			w->f[i] ^= w->left[i];
		memcpy(w->left, w->right, half);
		memcpy(w->right, w->f, half);
	}
	memcpy(out, w->right, half);
	memcpy(out + half, w->left, half);
	r = 0;
out:
	sodium_free(w);
	return r;
}

static int slip39_check_split(size_t len, const struct slip39_split_params *p)
{
	if (len < SLIP39_MIN_SECRET_LEN || len > SLIP39_MAX_SECRET_LEN || len % 2 != 0)
		return cer_err(CER_E_INPUT,
			       "a secret of %zu bytes cannot be shared: SLIP-39 needs an even "
			       "length of %d to %d bytes",
			       len, SLIP39_MIN_SECRET_LEN, SLIP39_MAX_SECRET_LEN);
	if (p->ext != 0 && p->ext != 1)
		return cer_err(CER_E_INPUT, "the extendable flag is 0 or 1, not %d", p->ext);
	if (p->iteration_exponent < 0 || p->iteration_exponent > SLIP39_MAX_ITERATION_EXPONENT)
		return cer_err(CER_E_INPUT, "iteration exponent %d is outside 0..%d",
			       p->iteration_exponent, SLIP39_MAX_ITERATION_EXPONENT);
	if (p->group_count < 1 || p->group_count > SLIP39_MAX_GROUPS || p->groups == NULL)
		return cer_err(CER_E_INPUT, "%d groups: SLIP-39 allows 1 to %d", p->group_count,
			       SLIP39_MAX_GROUPS);
	if (p->group_threshold < 1 || p->group_threshold > p->group_count)
		return cer_err(CER_E_INPUT,
			       "group threshold %d is outside 1..%d (the number of groups)",
			       p->group_threshold, p->group_count);
	for (int g = 0; g < p->group_count; g++) {
		int t = p->groups[g].member_threshold, n = p->groups[g].member_count;
		if (n < 1 || n > SLIP39_MAX_MEMBERS || t < 1 || t > n)
			return cer_err(CER_E_INPUT,
				       "group %d: threshold %d of %d shares; need 1 <= threshold <= "
				       "shares <= %d",
				       g + 1, t, n, SLIP39_MAX_MEMBERS);
	}
	return 0;
}

int slip39_split(const uint8_t *secret, size_t len, const char *passphrase, size_t passphrase_len,
		 const struct slip39_split_params *params, const struct shamir_rng *rng,
		 struct slip39_share_set **out)
{
	struct slip39_share_set *set = NULL;
	struct slip39_work *w = NULL;
	uint8_t id_bytes[2];
	uint16_t id;
	int r;

	*out = NULL;
	if ((r = slip39_check_split(len, params)) != 0 ||
	    (r = slip39_check_passphrase(passphrase, passphrase_len)) != 0)
		return r;
	if ((r = slip39_share_set_new(&set)) != 0 ||
	    (r = slip39_alloc(sizeof(*w), (void **)&w)) != 0)
		goto out;
	shamir_random(rng, id_bytes, sizeof(id_bytes));
	id = (uint16_t)(((id_bytes[0] << 8) | id_bytes[1]) & 0x7fff);
	if ((r = slip39_feistel(secret, len, passphrase, passphrase_len,
				params->iteration_exponent, id, params->ext, 0, w->ems)) != 0)
		goto out;
	if ((r = shamir_split(params->group_threshold, params->group_count, w->ems, len, rng,
			      w->group_secrets)) != 0)
		goto out;
	for (int g = 0; g < params->group_count; g++) {
		const struct slip39_group *grp = &params->groups[g];

		r = shamir_split(grp->member_threshold, grp->member_count,
				 w->group_secrets + (size_t)g * len, len, rng, w->member_values);
		if (r != 0)
			goto out;
		for (int m = 0; m < grp->member_count; m++) {
			struct slip39_share *s = &set->shares[set->count++];

			s->id = id;
			s->ext = (uint8_t)params->ext;
			s->iteration_exponent = (uint8_t)params->iteration_exponent;
			s->group_index = (uint8_t)g;
			s->group_threshold = (uint8_t)params->group_threshold;
			s->group_count = (uint8_t)params->group_count;
			s->member_index = (uint8_t)m;
			s->member_threshold = (uint8_t)grp->member_threshold;
			s->value_len = len;
			memcpy(s->value, w->member_values + (size_t)m * len, len);
		}
	}
	*out = set;
	set = NULL;
	r = 0;
out:
	sodium_free(w);
	slip39_share_set_free(set);
	return r;
}

/* SLIP-39 "Combining the shares": every share agrees on the split-wide fields. */
static int slip39_check_common(const struct slip39_share *shares, size_t n)
{
	const struct slip39_share *a = &shares[0];

	for (size_t i = 1; i < n; i++) {
		const struct slip39_share *b = &shares[i];

		if (b->id != a->id)
			return cer_err(CER_E_INPUT,
				       "share %zu has identifier %u but share 1 has %u: the shares "
				       "come from different splits",
				       i + 1, b->id, a->id);
		if (b->ext != a->ext)
			return cer_err(CER_E_INPUT,
				       "share %zu has extendable flag %u but share 1 has %u", i + 1,
				       b->ext, a->ext);
		if (b->iteration_exponent != a->iteration_exponent)
			return cer_err(CER_E_INPUT,
				       "share %zu has iteration exponent %u but share 1 has %u",
				       i + 1, b->iteration_exponent, a->iteration_exponent);
		if (b->group_threshold != a->group_threshold)
			return cer_err(CER_E_INPUT,
				       "share %zu has group threshold %u but share 1 has %u", i + 1,
				       b->group_threshold, a->group_threshold);
		if (b->group_count != a->group_count)
			return cer_err(CER_E_INPUT, "share %zu has group count %u but share 1 has %u",
				       i + 1, b->group_count, a->group_count);
		if (b->value_len != a->value_len)
			return cer_err(CER_E_INPUT,
				       "share %zu has a %zu-byte value but share 1 has %zu bytes "
				       "(different length)",
				       i + 1, b->value_len, a->value_len);
	}
	if (a->group_threshold > a->group_count)
		return cer_err(CER_E_INPUT, "group threshold %u is greater than the group count %u",
			       a->group_threshold, a->group_count);
	if (a->value_len < SLIP39_MIN_SECRET_LEN || a->value_len > SLIP39_MAX_SECRET_LEN ||
	    a->value_len % 2 != 0)
		return cer_err(CER_E_INPUT, "a share value of %zu bytes is not an even %d..%d",
			       a->value_len, SLIP39_MIN_SECRET_LEN, SLIP39_MAX_SECRET_LEN);
	return 0;
}

/*
 * Within each group: one member threshold, distinct member indices, exactly
 * that many shares; and exactly group_threshold groups (spec: more than needed
 * is refused too, like the reference "Wrong number of mnemonics").
 * members[g][k] is the position in shares of group g's k-th share.
 */
static int slip39_check_groups(const struct slip39_share *shares, size_t n,
			       uint8_t members[SLIP39_MAX_GROUPS][SLIP39_MAX_MEMBERS],
			       size_t counts[SLIP39_MAX_GROUPS])
{
	size_t groups = 0;
	unsigned gt = shares[0].group_threshold;

	memset(counts, 0, SLIP39_MAX_GROUPS * sizeof(counts[0]));
	for (size_t i = 0; i < n; i++) {
		const struct slip39_share *s = &shares[i];
		unsigned g = s->group_index;

		if (g >= SLIP39_MAX_GROUPS || s->member_index >= SLIP39_MAX_MEMBERS ||
		    s->member_threshold < 1 || s->member_threshold > SLIP39_MAX_MEMBERS)
			return cer_err(CER_E_INPUT, "share %zu: metadata out of the SLIP-39 ranges",
				       i + 1);
		if (g >= s->group_count)
			return cer_err(CER_E_INPUT, "share %zu: group index %u but only %u groups",
				       i + 1, g + 1, s->group_count);
		for (size_t k = 0; k < counts[g]; k++) {
			const struct slip39_share *o = &shares[members[g][k]];
			if (o->member_threshold != s->member_threshold)
				return cer_err(CER_E_INPUT,
					       "shares %u and %zu of group %u have different member "
					       "thresholds (%u and %u)",
					       members[g][k] + 1u, i + 1, g + 1, o->member_threshold,
					       s->member_threshold);
			if (o->member_index == s->member_index)
				return cer_err(CER_E_INPUT,
					       "shares %u and %zu have the same member index %u in "
					       "group %u: duplicate share",
					       members[g][k] + 1u, i + 1, s->member_index + 1u, g + 1);
		}
		if (counts[g] == SLIP39_MAX_MEMBERS)
			return cer_err(CER_E_INPUT, "group %u has more than %d shares", g + 1,
				       SLIP39_MAX_MEMBERS);
		if (counts[g] == 0)
			groups++;
		members[g][counts[g]++] = (uint8_t)i;
	}
	if (groups < gt)
		return cer_err(CER_E_INPUT,
			       "insufficient groups: shares from %zu group(s) were given, %u needed",
			       groups, gt);
	if (groups > gt)
		return cer_err(CER_E_INPUT,
			       "wrong number of groups: shares from %zu groups were given, exactly "
			       "%u needed",
			       groups, gt);
	for (unsigned g = 0; g < SLIP39_MAX_GROUPS; g++) {
		unsigned t;
		if (counts[g] == 0)
			continue;
		t = shares[members[g][0]].member_threshold;
		if (counts[g] < t)
			return cer_err(CER_E_INPUT,
				       "insufficient shares in group %u: %zu given, member "
				       "threshold %u",
				       g + 1, counts[g], t);
		if (counts[g] > t)
			return cer_err(CER_E_INPUT,
				       "wrong number of shares in group %u: %zu given, exactly %u "
				       "needed",
				       g + 1, counts[g], t);
	}
	return 0;
}

/* Recover each group's secret, then the EMS from the group secrets. */
static int slip39_recover_ems(const struct slip39_share *shares,
			      uint8_t members[SLIP39_MAX_GROUPS][SLIP39_MAX_MEMBERS],
			      const size_t counts[SLIP39_MAX_GROUPS], struct slip39_work *w)
{
	uint8_t xs[SLIP39_MAX_MEMBERS], gxs[SLIP39_MAX_GROUPS];
	const uint8_t *ys[SLIP39_MAX_MEMBERS], *gys[SLIP39_MAX_GROUPS];
	size_t len = shares[0].value_len, ngroups = 0;
	int r;

	for (unsigned g = 0; g < SLIP39_MAX_GROUPS; g++) {
		uint8_t *secret = w->group_secrets + ngroups * len;
		if (counts[g] == 0)
			continue;
		for (size_t k = 0; k < counts[g]; k++) {
			xs[k] = shares[members[g][k]].member_index;
			ys[k] = shares[members[g][k]].value;
		}
		r = shamir_recover(shares[members[g][0]].member_threshold, xs, ys, counts[g], len,
				   secret);
		if (r != 0) {
			cer_err_prefix("group %u: ", g + 1);
			return r;
		}
		gxs[ngroups] = (uint8_t)g;
		gys[ngroups] = secret;
		ngroups++;
	}
	if ((r = shamir_recover(shares[0].group_threshold, gxs, gys, ngroups, len, w->ems)) != 0)
		cer_err_prefix("combining the groups: ");
	return r;
}

/* One to SLIP39_MAX_SHARES shares. */
static int shares_count_check(size_t n)
{
	if (n == 0)
		return cer_err(CER_E_INPUT, "no shares were given");
	if (n > SLIP39_MAX_SHARES)
		return cer_err(CER_E_INPUT, "%zu shares given; a split has at most %d", n,
			       SLIP39_MAX_SHARES);
	return 0;
}

/* Every combining check, then the EMS; decrypt (passphrase not NULL) into the master secret. */
static int slip39_combine_common(struct slip39_work *given, const struct slip39_share *shares,
				 size_t n, const char *passphrase, size_t passphrase_len,
				 uint8_t *secret, size_t cap, size_t *len)
{
	uint8_t members[SLIP39_MAX_GROUPS][SLIP39_MAX_MEMBERS];
	size_t counts[SLIP39_MAX_GROUPS];
	struct slip39_work *w = given;
	const struct slip39_share *a = &shares[0];
	int r;

	*len = 0;
	if ((r = shares_count_check(n)) != 0)
		return r;
	if ((r = slip39_check_common(shares, n)) != 0 ||
	    (r = slip39_check_groups(shares, n, members, counts)) != 0 ||
	    (passphrase != NULL && (r = slip39_check_passphrase(passphrase, passphrase_len)) != 0))
		return r;
	if (cap < a->value_len)
		return cer_err(CER_E_INPUT, "the secret of %zu bytes does not fit in %zu",
			       a->value_len, cap);
	if (w == NULL && (r = slip39_alloc(sizeof(*w), (void **)&w)) != 0)
		goto out;
	if ((r = slip39_recover_ems(shares, members, counts, w)) != 0)
		goto out;
	if (passphrase == NULL)
		memcpy(secret, w->ems, a->value_len);
	else if ((r = slip39_feistel(w->ems, a->value_len, passphrase, passphrase_len,
				     a->iteration_exponent, a->id, a->ext, 1, secret)) != 0)
		goto out;
	*len = a->value_len;
	r = 0;
out:
	if (w != given)
		sodium_free(w);
	else
		sodium_memzero(w, sizeof(*w));
	return r;
}

int slip39_combine_shares(const struct slip39_share *shares, size_t n, const char *passphrase,
			  size_t passphrase_len, uint8_t *secret, size_t cap, size_t *len)
{
	if (passphrase == NULL)
		return cer_err(CER_E_INPUT, "no passphrase (use \"\" for none)");
	return slip39_combine_common(NULL, shares, n, passphrase, passphrase_len, secret, cap, len);
}

int slip39_combine_ems(const struct slip39_share *shares, size_t n, uint8_t *ems, size_t cap,
		       size_t *len)
{
	return slip39_combine_common(NULL, shares, n, NULL, 0, ems, cap, len);
}

struct slip39_combiner {
	struct slip39_work w;
};

int slip39_combiner_new(struct slip39_combiner **out)
{
	return slip39_alloc(sizeof(**out), (void **)out);
}

void slip39_combiner_free(struct slip39_combiner *c)
{
	sodium_free(c); /* wipes first; NULL is fine */
}

int slip39_combiner_ems(struct slip39_combiner *c, const struct slip39_share *shares, size_t n,
			uint8_t *ems, size_t cap, size_t *len)
{
	return slip39_combine_common(&c->w, shares, n, NULL, 0, ems, cap, len);
}

int slip39_combine(const char *const *mnemonics, size_t n, const char *passphrase,
		   size_t passphrase_len, uint8_t *secret, size_t cap, size_t *len)
{
	struct slip39_share_set *set = NULL;
	int r;

	*len = 0;
	if ((r = shares_count_check(n)) != 0)
		return r;
	if ((r = slip39_share_set_new(&set)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = slip39_share_decode(mnemonics[i], strnlen(mnemonics[i], SLIP39_MNEMONIC_MAX + 1),
					&set->shares[i]);
		if (r != 0) {
			cer_err_prefix("share %zu: ", i + 1);
			goto out;
		}
	}
	set->count = n;
	r = slip39_combine_shares(set->shares, n, passphrase, passphrase_len, secret, cap, len);
out:
	slip39_share_set_free(set);
	return r;
}

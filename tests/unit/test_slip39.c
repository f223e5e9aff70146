/* Unit tests for slip39: word list, share format, official vectors, split/combine, groups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <sodium.h>

#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/slip39.h"
#include "test_rng.h"

#define VECTORS_PATH "tests/vectors/slip39/vectors.json"
#define WORDLIST_PATH "../shared/vectors/slip39/wordlist.txt"
/* research/shamir-attestation.md 0.2: sha256 of slip-0039/wordlist.txt */
#define WORDLIST_SHA256 "bcc4555340332d169718aed8bf31dd9d5248cb7da6e5d355140ef4f1e601eec3"

static void test_wordlist_is_the_standard_list(void **state)
{
	static char joined[SLIP39_WORD_COUNT * (SLIP39_MAX_WORD_LEN + 1) + 1];
	size_t used = 0;
	uint8_t digest[32], file_digest[32];
	char hex[65];
	FILE *f;
	(void)state;

	assert_null(slip39_word(SLIP39_WORD_COUNT));
	for (size_t i = 0; i < SLIP39_WORD_COUNT; i++) {
		const char *w = slip39_word(i);
		assert_non_null(w);
		assert_true(strlen(w) >= 4 && strlen(w) <= SLIP39_MAX_WORD_LEN);
		if (i > 0) {
			/* sorted, and the first 4 letters identify a word */
			assert_true(strcmp(slip39_word(i - 1), w) < 0);
			assert_true(strncmp(slip39_word(i - 1), w, 4) != 0);
		}
		/* joined as in wordlist.txt: each word followed by a newline */
		memcpy(joined + used, w, strlen(w));
		used += strlen(w);
		joined[used++] = '\n';
	}
	SHA256((const unsigned char *)joined, used, digest);
	hex_encode(digest, sizeof(digest), hex);
	assert_string_equal(hex, WORDLIST_SHA256);

	f = fopen(WORDLIST_PATH, "rb");
	if (f == NULL)
		return; /* the shared folder is not there: the constant above still checked it */
	char buf[16384];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	SHA256((const unsigned char *)buf, n, file_digest);
	assert_memory_equal(digest, file_digest, sizeof(digest));
}

/* The reason each invalid vector must be refused for, as words in our message. */
static const char *vector_reason(const char *description)
{
	static const struct {
		const char *in_description;
		const char *in_message;
	} reasons[] = {
		{"invalid checksum", "checksum"},
		{"invalid padding", "padding"},
		{"different identifiers", "identifier"},
		{"different iteration exponents", "iteration exponent"},
		{"mismatching group thresholds", "group threshold"},
		{"mismatching group counts", "group count"},
		{"greater group threshold than group counts", "greater than the group count"},
		{"duplicate member indices", "same member index"},
		{"mismatching member thresholds", "member thresholds"},
		{"invalid digest", "digest"},
		{"Insufficient number of groups", "insufficient groups"},
		{"insufficient number of members", "insufficient shares"},
		{"insufficient length", "length"},
		{"invalid master secret length", "length"},
		{"Basic sharing 2-of-3", "insufficient shares"},
	};
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strstr(description, reasons[i].in_description) != NULL)
			return reasons[i].in_message;
	return NULL;
}

static json_t *load_vectors(void)
{
	json_error_t error;
	json_t *v = json_load_file(VECTORS_PATH, 0, &error);
	if (v == NULL)
		fail_msg("%s: %s (run the tests from the repository root)", VECTORS_PATH,
			 error.text);
	assert_true(json_is_array(v));
	assert_int_equal(json_array_size(v), 45);
	return v;
}

static void test_official_vectors(void **state)
{
	json_t *vectors = load_vectors(), *vec;
	size_t i, valid = 0, invalid = 0;
	uint8_t secret[SLIP39_MAX_SECRET_LEN];
	char hex[2 * SLIP39_MAX_SECRET_LEN + 1];
	(void)state;

	json_array_foreach(vectors, i, vec) {
		const char *description = json_string_value(json_array_get(vec, 0));
		json_t *list = json_array_get(vec, 1);
		const char *want = json_string_value(json_array_get(vec, 2));
		const char *mnemonics[32];
		size_t n = json_array_size(list), len = 0;
		int r;

		assert_true(n > 0 && n <= 32);
		for (size_t k = 0; k < n; k++)
			mnemonics[k] = json_string_value(json_array_get(list, k));
		r = slip39_combine(mnemonics, n, "TREZOR", 6, secret, sizeof(secret), &len);
		if (want[0] != '\0') {
			if (r != 0)
				fail_msg("%s: refused: %s", description, cer_err_msg(r));
			hex_encode(secret, len, hex);
			assert_string_equal(hex, want);
			valid++;
		} else {
			const char *reason = vector_reason(description);
			if (r == 0)
				fail_msg("%s: accepted", description);
			assert_non_null(reason);
			if (strstr(cer_err_msg(r), reason) == NULL)
				fail_msg("%s: refused with \"%s\", expected it to mention \"%s\"",
					 description, cer_err_msg(r), reason);
			invalid++;
		}
	}
	assert_int_equal(valid, 15);
	assert_int_equal(invalid, 30);
	json_decref(vectors);
}

/* Every valid vector share re-encodes to its own words and survives packing. */
static void test_vector_shares_encode_pack_and_detect_word_changes(void **state)
{
	json_t *vectors = load_vectors(), *vec, *m;
	struct slip39_share_set *set = NULL;
	char text[SLIP39_MNEMONIC_MAX];
	uint8_t packed[SLIP39_PACKED_MAX];
	uint16_t words[SLIP39_MAX_WORDS];
	size_t i, k, n, plen, checked = 0;
	(void)state;

	assert_int_equal(slip39_share_set_new(&set), 0);
	struct slip39_share *s = &set->shares[0], *t = &set->shares[1];
	json_array_foreach(vectors, i, vec) {
		if (json_string_value(json_array_get(vec, 2))[0] == '\0')
			continue;
		json_array_foreach(json_array_get(vec, 1), k, m) {
			const char *mn = json_string_value(m);
			assert_int_equal(slip39_share_decode(mn, strlen(mn), s), 0);
			assert_int_equal(slip39_share_encode(s, text, sizeof(text)), 0);
			assert_string_equal(text, mn);
			assert_int_equal(slip39_share_pack(s, packed, sizeof(packed), &plen), 0);
			assert_int_equal(plen, s->value_len == 32 ? 42 : 25);
			assert_int_equal(slip39_share_unpack(packed, plen, t), 0);
			assert_memory_equal(s, t, sizeof(*s));
			/* RS1024 detects any single changed word (no auto-correction). */
			assert_int_equal(slip39_share_to_indices(s, words, &n), 0);
			for (size_t w = 0; w < n; w++) {
				uint16_t old = words[w];
				for (uint16_t d = 1; d < SLIP39_WORD_COUNT; d += 97) {
					words[w] = (uint16_t)((old + d) % SLIP39_WORD_COUNT);
					assert_int_not_equal(slip39_share_from_indices(words, n, t), 0);
				}
				words[w] = old;
			}
			checked++;
		}
	}
	assert_true(checked >= 30);
	slip39_share_set_free(set);
	json_decref(vectors);
}

static void test_decode_accepts_any_case_and_extra_spaces(void **state)
{
	const char *mn = "  Duckling Enlarge academic academic agency result length solution "
			 "fridge kidney coal piece deal husband erode duke ajar critical "
			 "decision keyboard\t";
	const char *bad_word = "duckling enlarge academic academic agency result length solution "
			       "fridge kidney coal piece deal husband erode duke ajar critical "
			       "decision keyboardx";
	struct slip39_share_set *set = NULL;
	(void)state;
	assert_int_equal(slip39_share_set_new(&set), 0);
	assert_int_equal(slip39_share_decode(mn, strlen(mn), &set->shares[0]), 0);
	assert_int_equal(set->shares[0].value_len, 16);
	assert_int_equal(slip39_share_decode(bad_word, strlen(bad_word), &set->shares[0]),
			 CER_E_INPUT);
	assert_non_null(strstr(cer_err_msg(CER_E_INPUT), "word 20 is not in the SLIP-39 word list"));
	/* The message never quotes the word (it is part of a secret). */
	assert_null(strstr(cer_err_msg(CER_E_INPUT), "keyboardx"));
	slip39_share_set_free(set);
}

static int split_one_group(const uint8_t *secret, size_t len, int k, int n, int ext, int e,
			   struct shamir_rng *rng, struct slip39_share_set **out)
{
	struct slip39_group g = {k, n};
	struct slip39_split_params p = {ext, e, 1, 1, &g};
	return slip39_split(secret, len, "", 0, &p, rng, out);
}

/* Combine set->shares at positions idx[0..k). */
static int combine_subset(const struct slip39_share_set *set, const size_t *idx, size_t k,
			  const char *pass, uint8_t *out, size_t *len)
{
	struct slip39_share_set *pick = NULL;
	int r;
	assert_int_equal(slip39_share_set_new(&pick), 0);
	for (size_t i = 0; i < k; i++)
		pick->shares[i] = set->shares[idx[i]];
	r = slip39_combine_shares(pick->shares, k, pass, strlen(pass), out,
				  SLIP39_MAX_SECRET_LEN, len);
	slip39_share_set_free(pick);
	return r;
}

static void test_split_combine_every_k_of_n_single_group(void **state)
{
	struct test_rng t;
	struct shamir_rng rng = test_rng_make(&t, 2);
	uint8_t secret[32], out[SLIP39_MAX_SECRET_LEN];
	size_t idx[16], len;
	(void)state;

	for (int n = 1; n <= 16; n++) {
		for (int k = 1; k <= n; k++) {
			struct slip39_share_set *set = NULL;
			size_t slen = (n + k) % 2 ? 16 : 32;
			shamir_random(&rng, secret, slen);
			assert_int_equal(split_one_group(secret, slen, k, n, 1, 0, &rng, &set), 0);
			assert_int_equal(set->count, (size_t)n);
			/* the first k shares, and the last k in reverse order */
			for (int i = 0; i < k; i++)
				idx[i] = (size_t)i;
			assert_int_equal(combine_subset(set, idx, (size_t)k, "", out, &len), 0);
			assert_int_equal(len, slen);
			assert_memory_equal(out, secret, slen);
			for (int i = 0; i < k; i++)
				idx[i] = (size_t)(n - 1 - i);
			assert_int_equal(combine_subset(set, idx, (size_t)k, "", out, &len), 0);
			assert_memory_equal(out, secret, slen);
			/* every (k-1)-subset is refused (checked before any decryption) */
			if (k >= 2) {
				for (int skip = 0; skip < n && skip < 8; skip++) {
					for (int i = 0; i < k - 1; i++)
						idx[i] = (size_t)((skip + i) % n);
					assert_int_equal(combine_subset(set, idx, (size_t)k - 1, "",
									out, &len),
							 CER_E_INPUT);
					assert_non_null(strstr(cer_err_msg(CER_E_INPUT),
							       "insufficient shares"));
				}
			}
			/* more than k shares is refused too (SLIP-39: exactly the threshold) */
			if (k < n) {
				for (int i = 0; i <= k; i++)
					idx[i] = (size_t)i;
				assert_int_equal(combine_subset(set, idx, (size_t)k + 1, "", out,
								&len),
						 CER_E_INPUT);
				assert_non_null(strstr(cer_err_msg(CER_E_INPUT), "wrong number"));
			}
			slip39_share_set_free(set);
		}
	}
}

static void test_split_combine_through_mnemonics(void **state)
{
	struct slip39_share_set *set = NULL;
	struct slip39_group groups[2] = {{2, 3}, {1, 1}};
	struct slip39_split_params p = {0, 1, 2, 2, groups};
	uint8_t secret[32], out[SLIP39_MAX_SECRET_LEN];
	char *text[3];
	size_t len;
	(void)state;

	randombytes_buf(secret, sizeof(secret));
	assert_int_equal(slip39_split(secret, 32, "pass phrase", 11, &p, NULL, &set), 0);
	assert_int_equal(set->count, 4);
	for (int i = 0; i < 3; i++) {
		text[i] = sodium_malloc(SLIP39_MNEMONIC_MAX);
		assert_non_null(text[i]);
	}
	/* group 1 members 1 and 3, group 2's single member; 33 words each */
	assert_int_equal(slip39_share_encode(&set->shares[0], text[0], SLIP39_MNEMONIC_MAX), 0);
	assert_int_equal(slip39_share_encode(&set->shares[2], text[1], SLIP39_MNEMONIC_MAX), 0);
	assert_int_equal(slip39_share_encode(&set->shares[3], text[2], SLIP39_MNEMONIC_MAX), 0);
	size_t spaces = 0;
	for (const char *c = text[0]; *c; c++)
		spaces += *c == ' ';
	assert_int_equal(spaces, 32);
	assert_int_equal(slip39_combine((const char *const *)text, 3, "pass phrase", 11, out,
					sizeof(out), &len),
			 0);
	assert_int_equal(len, 32);
	assert_memory_equal(out, secret, 32);
	/* SLIP-39 has no passphrase check: a wrong one gives another secret */
	assert_int_equal(slip39_combine((const char *const *)text, 3, "pass phrasE", 11, out,
					sizeof(out), &len),
			 0);
	assert_memory_not_equal(out, secret, 32);
	for (int i = 0; i < 3; i++)
		sodium_free(text[i]);
	slip39_share_set_free(set);
}

struct group_case {
	int group_threshold, group_count;
	struct slip39_group groups[SLIP39_MAX_GROUPS];
};

/* positions of the first `members` shares of group g in a set ordered by group */
static size_t add_group(const struct group_case *c, int g, int members, size_t *idx, size_t n)
{
	size_t start = 0;
	for (int i = 0; i < g; i++)
		start += (size_t)c->groups[i].member_count;
	for (int m = 0; m < members; m++)
		idx[n++] = start + (size_t)m;
	return n;
}

static void test_split_combine_two_level_groups(void **state)
{
	static const struct group_case cases[] = {
		{2, 3, {{2, 3}, {1, 1}, {3, 5}}},
		{1, 2, {{2, 2}, {3, 4}}},
		{3, 3, {{1, 1}, {2, 3}, {2, 2}}},
		{2, 4, {{1, 1}, {16, 16}, {4, 7}, {2, 2}}},
		{5, 16, {{1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1},
			 {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {2, 2}}},
	};
	struct test_rng t;
	struct shamir_rng rng = test_rng_make(&t, 3);
	uint8_t secret[32], out[SLIP39_MAX_SECRET_LEN];
	size_t idx[SLIP39_MAX_SHARES], len, n;
	(void)state;

	for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
		const struct group_case *c = &cases[ci];
		struct slip39_split_params p = {1, 0, c->group_threshold, c->group_count,
						c->groups};
		struct slip39_share_set *set = NULL;
		shamir_random(&rng, secret, sizeof(secret));
		assert_int_equal(slip39_split(secret, 32, "TREZOR", 6, &p, &rng, &set), 0);
		/* the last group_threshold groups, each with exactly its threshold */
		n = 0;
		for (int g = c->group_count - c->group_threshold; g < c->group_count; g++)
			n = add_group(c, g, c->groups[g].member_threshold, idx, n);
		assert_int_equal(combine_subset(set, idx, n, "TREZOR", out, &len), 0);
		assert_memory_equal(out, secret, 32);
		/* one group fewer (with one group needed, that leaves no share at all) */
		assert_int_equal(combine_subset(set, idx + c->groups[c->group_count -
								      c->group_threshold]
								 .member_threshold,
						n - (size_t)c->groups[c->group_count -
								      c->group_threshold]
								.member_threshold,
						"TREZOR", out, &len),
				 CER_E_INPUT);
		assert_non_null(strstr(cer_err_msg(CER_E_INPUT), c->group_threshold > 1
									 ? "insufficient groups"
									 : "no shares"));
		/* one member fewer in the last group */
		if (c->groups[c->group_count - 1].member_threshold > 1) {
			assert_int_equal(combine_subset(set, idx, n - 1, "TREZOR", out, &len),
					 CER_E_INPUT);
			assert_non_null(strstr(cer_err_msg(CER_E_INPUT), "insufficient shares"));
		}
		/* one group more than the threshold */
		if (c->group_threshold < c->group_count) {
			size_t m = add_group(c, 0, c->groups[0].member_threshold, idx, n);
			assert_int_equal(combine_subset(set, idx, m, "TREZOR", out, &len),
					 CER_E_INPUT);
			assert_non_null(strstr(cer_err_msg(CER_E_INPUT), "wrong number of groups"));
		}
		slip39_share_set_free(set);
	}
}

static void test_combine_refuses_shares_of_two_splits(void **state)
{
	struct slip39_share_set *a = NULL, *b = NULL, *mix = NULL;
	uint8_t secret[16] = {1}, out[SLIP39_MAX_SECRET_LEN];
	size_t len;
	(void)state;
	assert_int_equal(split_one_group(secret, 16, 2, 3, 1, 0, NULL, &a), 0);
	assert_int_equal(split_one_group(secret, 16, 2, 3, 1, 0, NULL, &b), 0);
	assert_int_equal(slip39_share_set_new(&mix), 0);
	mix->shares[0] = a->shares[0];
	mix->shares[1] = b->shares[1];
	/* force the same identifier: the digest still tells the splits apart */
	mix->shares[1].id = mix->shares[0].id;
	assert_int_equal(slip39_combine_shares(mix->shares, 2, "", 0, out, sizeof(out), &len),
			 CER_E_VERIFY);
	assert_non_null(strstr(cer_err_msg(CER_E_VERIFY), "digest"));
	mix->shares[1].id = (uint16_t)(mix->shares[0].id ^ 1);
	assert_int_equal(slip39_combine_shares(mix->shares, 2, "", 0, out, sizeof(out), &len),
			 CER_E_INPUT);
	assert_non_null(strstr(cer_err_msg(CER_E_INPUT), "identifier"));
	slip39_share_set_free(a);
	slip39_share_set_free(b);
	slip39_share_set_free(mix);
}

static void test_ext0_and_iteration_exponent_round_trip(void **state)
{
	struct slip39_share_set *set = NULL;
	uint8_t secret[16], out[SLIP39_MAX_SECRET_LEN];
	size_t idx[2] = {2, 0}, len;
	(void)state;
	randombytes_buf(secret, sizeof(secret));
	assert_int_equal(split_one_group(secret, 16, 2, 3, 0, 2, NULL, &set), 0);
	assert_int_equal(set->shares[0].ext, 0);
	assert_int_equal(set->shares[0].iteration_exponent, 2);
	assert_int_equal(combine_subset(set, idx, 2, "", out, &len), 0);
	assert_memory_equal(out, secret, 16);
	slip39_share_set_free(set);
}

static void test_split_refuses_bad_parameters(void **state)
{
	struct slip39_share_set *set = NULL;
	uint8_t secret[SLIP39_MAX_SECRET_LEN + 2] = {0};
	struct slip39_group g = {2, 3}, bad = {4, 3};
	struct slip39_split_params ok = {1, 0, 1, 1, &g};
	struct slip39_split_params p;
	(void)state;

	assert_int_equal(slip39_split(secret, 15, "", 0, &ok, NULL, &set), CER_E_INPUT);
	assert_int_equal(slip39_split(secret, 17, "", 0, &ok, NULL, &set), CER_E_INPUT);
	assert_int_equal(slip39_split(secret, 14, "", 0, &ok, NULL, &set), CER_E_INPUT);
	assert_int_equal(slip39_split(secret, SLIP39_MAX_SECRET_LEN + 2, "", 0, &ok, NULL, &set),
			 CER_E_INPUT);
	assert_int_equal(slip39_split(secret, 16, "caf\xc3\xa9", 5, &ok, NULL, &set), CER_E_INPUT);
	assert_non_null(strstr(cer_err_msg(CER_E_INPUT), "printable ASCII"));
	p = ok;
	p.iteration_exponent = 16;
	assert_int_equal(slip39_split(secret, 16, "", 0, &p, NULL, &set), CER_E_INPUT);
	p = ok;
	p.group_threshold = 2;
	assert_int_equal(slip39_split(secret, 16, "", 0, &p, NULL, &set), CER_E_INPUT);
	p = ok;
	p.groups = &bad;
	assert_int_equal(slip39_split(secret, 16, "", 0, &p, NULL, &set), CER_E_INPUT);
	p = ok;
	p.ext = 2;
	assert_int_equal(slip39_split(secret, 16, "", 0, &p, NULL, &set), CER_E_INPUT);
	assert_null(set);
}

static void test_unpack_refuses_bad_lengths_and_tails(void **state)
{
	struct slip39_share_set *set = NULL;
	uint8_t secret[32] = {7}, packed[SLIP39_PACKED_MAX];
	size_t plen;
	(void)state;
	assert_int_equal(split_one_group(secret, 32, 1, 1, 1, 0, NULL, &set), 0);
	assert_int_equal(slip39_share_pack(&set->shares[0], packed, sizeof(packed), &plen), 0);
	assert_int_equal(plen, 42);
	assert_int_equal(slip39_share_unpack(packed, 41, &set->shares[1]), CER_E_INPUT);
	packed[41] |= 0x01; /* 330 bits in 336: the last 6 bits must be zero */
	assert_int_equal(slip39_share_unpack(packed, 42, &set->shares[1]), CER_E_INPUT);
	packed[41] &= 0xfe;
	packed[20] ^= 0x10;
	assert_int_equal(slip39_share_unpack(packed, 42, &set->shares[1]), CER_E_INPUT);
	assert_non_null(strstr(cer_err_msg(CER_E_INPUT), "checksum"));
	slip39_share_set_free(set);
}

/* Issue 13 item 4: every subset gives one EMS without PBKDF2; a foreign share is refused. */
static void test_combine_ems_is_the_same_for_every_subset_and_not_the_secret(void **state)
{
	struct test_rng t;
	struct shamir_rng rng = test_rng_make(&t, 7);
	struct slip39_share_set *set = NULL, *other = NULL, *pick = NULL;
	uint8_t secret[32], ems1[SLIP39_MAX_SECRET_LEN], ems2[SLIP39_MAX_SECRET_LEN];
	size_t len1 = 0, len2 = 0;
	(void)state;

	shamir_random(&rng, secret, sizeof(secret));
	assert_int_equal(split_one_group(secret, sizeof(secret), 3, 5, 1, 0, &rng, &set), 0);
	assert_int_equal(split_one_group(secret, sizeof(secret), 3, 5, 1, 0, &rng, &other), 0);
	assert_int_equal(slip39_share_set_new(&pick), 0);
	pick->shares[0] = set->shares[0];
	pick->shares[1] = set->shares[1];
	pick->shares[2] = set->shares[2];
	assert_int_equal(slip39_combine_ems(pick->shares, 3, ems1, sizeof(ems1), &len1), 0);
	pick->shares[0] = set->shares[4];
	pick->shares[1] = set->shares[3];
	assert_int_equal(slip39_combine_ems(pick->shares, 3, ems2, sizeof(ems2), &len2), 0);
	assert_int_equal(len1, 32);
	assert_int_equal(len2, 32);
	assert_memory_equal(ems1, ems2, 32);
	assert_memory_not_equal(ems1, secret, 32); /* encrypted, not the master secret */
	/* A share of another split of the same secret: different identifier, refused. */
	pick->shares[2] = other->shares[2];
	assert_int_not_equal(slip39_combine_ems(pick->shares, 3, ems2, sizeof(ems2), &len2), 0);
	/* Too few shares: refused as by slip39_combine_shares. */
	assert_int_not_equal(slip39_combine_ems(pick->shares, 2, ems2, sizeof(ems2), &len2), 0);
	slip39_share_set_free(set);
	slip39_share_set_free(other);
	slip39_share_set_free(pick);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wordlist_is_the_standard_list),
		cmocka_unit_test(test_official_vectors),
		cmocka_unit_test(test_vector_shares_encode_pack_and_detect_word_changes),
		cmocka_unit_test(test_decode_accepts_any_case_and_extra_spaces),
		cmocka_unit_test(test_split_combine_every_k_of_n_single_group),
		cmocka_unit_test(test_split_combine_through_mnemonics),
		cmocka_unit_test(test_split_combine_two_level_groups),
		cmocka_unit_test(test_combine_refuses_shares_of_two_splits),
		cmocka_unit_test(test_ext0_and_iteration_exponent_round_trip),
		cmocka_unit_test(test_split_refuses_bad_parameters),
		cmocka_unit_test(test_unpack_refuses_bad_lengths_and_tails),
		cmocka_unit_test(test_combine_ems_is_the_same_for_every_subset_and_not_the_secret),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

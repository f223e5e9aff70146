/*
 * slip39 — SLIP-0039 shares: format, mnemonics, passphrase encryption, groups.
 *
 * Owns: the share layout (15-bit identifier, extendable flag, iteration
 * exponent, group and member index/threshold/count, padded value, RS1024
 * checksum with customization "shamir" or "shamir_extendable"); mnemonic words
 * and a packed binary form; the 4-round Feistel cipher keyed by the passphrase
 * (PBKDF2-HMAC-SHA256); two-level (group) split; and every check the spec
 * ("Combining the shares") requires before a secret is returned. Does not own:
 * GF(256) arithmetic and the digest share (shamir), where shares are stored
 * (cards, paper), or how a passphrase is entered.
 *
 * Shares and secrets are secret: struct slip39_share and struct slip39_share_set
 * live in sodium_malloc memory (slip39_share_set_new / _free) or in a buffer
 * the caller wipes (sodium_init, done by secret_init, must have run). Error
 * messages never contain share words or secret bytes; groups and members are
 * numbered from 1 in them.
 */
#ifndef CEREMONY_SLIP39_H
#define CEREMONY_SLIP39_H

#include <stddef.h>
#include <stdint.h>

#include "ceremony/shamir.h"

#define SLIP39_MAX_GROUPS 16
#define SLIP39_MAX_MEMBERS 16
#define SLIP39_MAX_SHARES (SLIP39_MAX_GROUPS * SLIP39_MAX_MEMBERS)
#define SLIP39_MIN_SECRET_LEN 16 /* 128 bits */
#define SLIP39_MAX_SECRET_LEN SHAMIR_MAX_LEN
#define SLIP39_MAX_ITERATION_EXPONENT 15
#define SLIP39_WORD_COUNT 1024
#define SLIP39_METADATA_WORDS 7 /* id/ext/e: 2, group/member fields: 2, checksum: 3 */
#define SLIP39_MIN_WORDS 20
#define SLIP39_MAX_WORDS (SLIP39_METADATA_WORDS + (SLIP39_MAX_SECRET_LEN * 8 + 9) / 10)
#define SLIP39_MAX_WORD_LEN 8
#define SLIP39_PASSPHRASE_MAX 1024 /* bytes of printable ASCII */
/* Longest mnemonic text: every word at its longest, spaces between, NUL. */
#define SLIP39_MNEMONIC_MAX (SLIP39_MAX_WORDS * (SLIP39_MAX_WORD_LEN + 1))
/* Longest packed binary share: the words' 10-bit indices, big-endian, zero-padded. */
#define SLIP39_PACKED_MAX ((SLIP39_MAX_WORDS * 10 + 7) / 8)

/* One share with its metadata; thresholds and counts are real values (1..16). */
struct slip39_share {
	uint16_t id;             /* 15 bits, the same in every share of a split */
	uint8_t ext;             /* extendable flag: 1 means the id is not in the salt */
	uint8_t iteration_exponent; /* PBKDF2 iterations = 10000 << e in total */
	uint8_t group_index;     /* 0..15: x of the group share */
	uint8_t group_threshold; /* 1..16 */
	uint8_t group_count;     /* 1..16 */
	uint8_t member_index;    /* 0..15: x of the member share */
	uint8_t member_threshold; /* 1..16 */
	size_t value_len;        /* bytes, even, SLIP39_MIN_SECRET_LEN..SLIP39_MAX_SECRET_LEN */
	uint8_t value[SLIP39_MAX_SECRET_LEN];
};

/* All shares of one split, ordered by group, then member index. */
struct slip39_share_set {
	size_t count;
	struct slip39_share shares[SLIP39_MAX_SHARES];
};

/* One group of a split: member_threshold of member_count shares recover it. */
struct slip39_group {
	int member_threshold;
	int member_count;
};

struct slip39_split_params {
	int ext;                /* 1 (recommended for new shares) or 0 */
	int iteration_exponent; /* 0..15 */
	int group_threshold;    /* groups needed, 1..group_count */
	int group_count;        /* 1..16 */
	const struct slip39_group *groups;
};

/* Secure (sodium_malloc) zeroed share set; free with slip39_share_set_free, which wipes. */
int slip39_share_set_new(struct slip39_share_set **out) __attribute__((warn_unused_result));
void slip39_share_set_free(struct slip39_share_set *set);

/*
 * Split secret (len bytes: even, 16..64) into shares. passphrase may be empty
 * (len 0) and must be printable ASCII. rng NULL means libsodium; it draws the
 * identifier and every random share. *out is a new secure share set.
 */
int slip39_split(const uint8_t *secret, size_t len, const char *passphrase, size_t passphrase_len,
		 const struct slip39_split_params *params, const struct shamir_rng *rng,
		 struct slip39_share_set **out) __attribute__((warn_unused_result));

/*
 * Combine exactly the shares needed (group_threshold groups, member_threshold
 * members in each) after every SLIP-39 check; decrypt with passphrase into
 * secret (cap bytes), setting *len. A refusal says which rule failed.
 */
int slip39_combine_shares(const struct slip39_share *shares, size_t n, const char *passphrase,
			  size_t passphrase_len, uint8_t *secret, size_t cap, size_t *len)
	__attribute__((warn_unused_result));

/*
 * The same checks and Shamir interpolation (digest share included) as
 * slip39_combine_shares, but stop at the encrypted master secret: no
 * passphrase decryption, so no PBKDF2. Two qualifying subsets of one split
 * give the same EMS; a caller that has checked one subset's secret can test
 * every other subset against that EMS cheaply.
 */
int slip39_combine_ems(const struct slip39_share *shares, size_t n, uint8_t *ems, size_t cap,
		       size_t *len) __attribute__((warn_unused_result));

/*
 * slip39_combine_ems with its working memory allocated once (secure memory,
 * wiped after each call and when freed), for testing many subsets in a row.
 * One combiner per thread.
 */
struct slip39_combiner;
int slip39_combiner_new(struct slip39_combiner **out) __attribute__((warn_unused_result));
void slip39_combiner_free(struct slip39_combiner *c);
int slip39_combiner_ems(struct slip39_combiner *c, const struct slip39_share *shares, size_t n,
			uint8_t *ems, size_t cap, size_t *len) __attribute__((warn_unused_result));

/* Decode each mnemonic (refusal names "share N") and slip39_combine_shares them. */
int slip39_combine(const char *const *mnemonics, size_t n, const char *passphrase,
		   size_t passphrase_len, uint8_t *secret, size_t cap, size_t *len)
	__attribute__((warn_unused_result));

/* The share's words as 10-bit indices, checksum included; words holds SLIP39_MAX_WORDS. */
int slip39_share_to_indices(const struct slip39_share *share, uint16_t *words, size_t *n)
	__attribute__((warn_unused_result));
/* Parse indices: length, RS1024 checksum, padding, group threshold <= count. */
int slip39_share_from_indices(const uint16_t *words, size_t n, struct slip39_share *share)
	__attribute__((warn_unused_result));

/* Mnemonic text: lowercase words separated by one space, NUL-terminated, in out (cap bytes). */
int slip39_share_encode(const struct slip39_share *share, char *out, size_t cap)
	__attribute__((warn_unused_result));
/* Words separated by spaces or tabs, any case; then slip39_share_from_indices. */
int slip39_share_decode(const char *mnemonic, size_t len, struct slip39_share *share)
	__attribute__((warn_unused_result));

/* Packed binary: the 10-bit indices big-endian, last byte zero-padded (33 words: 42 bytes). */
int slip39_share_pack(const struct slip39_share *share, uint8_t *out, size_t cap, size_t *len)
	__attribute__((warn_unused_result));
int slip39_share_unpack(const uint8_t *in, size_t len, struct slip39_share *share)
	__attribute__((warn_unused_result));

/* The word list (public data; not constant time): word i, or NULL past the end. */
const char *slip39_word(size_t i);

#endif

/*
 * seal — one Key Executive's share sealed to that executive's passphrase.
 *
 * Owns: the sealed-share blob (format below), turning a passphrase into a key
 * with Argon2id, encrypting the share with XChaCha20-Poly1305-IETF with the
 * header and the share's metadata as associated data, the Argon2 cost policy
 * (floor and cap), and reading the clear metadata without the passphrase.
 * Does not own: what the share or the metadata mean (shamir, backup), the
 * passphrase prompt (secret), the card it is stored on (p11), or recording
 * the cost in the transcript (the caller does that; see backup_seal_limits).
 *
 * Blob, version 1 (integers big-endian; docs/seal.md has the rationale):
 *
 *   offset  size  field
 *        0     8  magic "CERSEAL1"
 *        8     2  version = 1: Argon2id v1.3 + XChaCha20-Poly1305-IETF
 *       10     4  Argon2id opslimit
 *       14     4  Argon2id memlimit in KiB
 *       18    16  salt (random)
 *       34    24  nonce (random)
 *       58     4  metadata length M (at most SEAL_META_MAX)
 *       62     M  metadata, in clear
 *     62+M     4  ciphertext length C = share length + 16
 *     66+M     C  ciphertext and Poly1305 tag
 *
 * The associated data is every byte before the ciphertext (offsets 0 to
 * 66+M), so a change to any header field, the metadata or a length fails the
 * tag just as a change to the ciphertext does. Nothing may follow the
 * ciphertext.
 */
#ifndef CEREMONY_SEAL_H
#define CEREMONY_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ceremony/secret.h"

#define SEAL_MAGIC "CERSEAL1"
#define SEAL_MAGIC_LEN 8
#define SEAL_VERSION 1
#define SEAL_SALT_LEN 16
#define SEAL_NONCE_LEN 24
#define SEAL_TAG_LEN 16
#define SEAL_HEADER_LEN 58 /* magic .. nonce: where the metadata length starts */
#define SEAL_META_MAX 4096
#define SEAL_SHARE_MAX 4096
#define SEAL_BLOB_MAX (SEAL_HEADER_LEN + 4 + SEAL_META_MAX + 4 + SEAL_SHARE_MAX + SEAL_TAG_LEN)

/*
 * Argon2id cost policy. Production floor = libsodium's MODERATE (3 passes,
 * 256 MiB). Test floor = libsodium's minimum (1 pass, 8 KiB), allowed only
 * when the limits say test_limits_allowed. Cap = 16 passes, 1 GiB (SENSITIVE's
 * memory), so a tampered blob cannot make an open run for minutes or exhaust
 * the ceremony laptop's memory, and cannot lower the cost below the floor.
 */
#define SEAL_OPSLIMIT_FLOOR 3ULL
#define SEAL_MEMLIMIT_FLOOR ((size_t)256 * 1024 * 1024)
#define SEAL_OPSLIMIT_TEST_FLOOR 1ULL
#define SEAL_MEMLIMIT_TEST_FLOOR ((size_t)8 * 1024)
#define SEAL_OPSLIMIT_CAP 16ULL
#define SEAL_MEMLIMIT_CAP ((size_t)1024 * 1024 * 1024)

struct seal_limits {
	unsigned long long opslimit; /* Argon2id passes */
	size_t memlimit;             /* bytes, a multiple of 1024 */
	bool test_limits_allowed;    /* lowers the floor to the test floor */
};

/* MODERATE: 3 passes, 256 MiB; test limits not allowed. */
struct seal_limits seal_limits_production(void);
/* 1 pass, 8 KiB; test limits allowed. Only for tests and demos. */
struct seal_limits seal_limits_test(void);
/* True when the cost is below the production floor. */
bool seal_limits_is_test(const struct seal_limits *lim);

/*
 * Seal share_len bytes of share (1..SEAL_SHARE_MAX) to passphrase (not
 * empty), with meta_len bytes of metadata (0..SEAL_META_MAX, meta may be NULL
 * when 0) as clear, authenticated data, at the cost lim (checked against the
 * policy above). On success *blob is a malloc'd blob of *blob_len bytes, for
 * the caller to free().
 */
int seal_share(const struct secret *passphrase, const uint8_t *share, size_t share_len,
	       const uint8_t *meta, size_t meta_len, const struct seal_limits *lim,
	       uint8_t **blob, size_t *blob_len) __attribute__((warn_unused_result));

/*
 * A passphrase's sealing key: a fresh random salt, the cost lim (checked
 * against the policy), and the Argon2id key, all in secure memory. Derive it
 * once per share and use it both to seal and to read the share back, so
 * creating a share costs one Argon2id run. Thread-safe: several keys may be
 * derived at once (one Argon2id buffer each).
 */
struct seal_key;
int seal_key_derive(const struct secret *passphrase, const struct seal_limits *lim,
		    struct seal_key **out) __attribute__((warn_unused_result));
/* Wipe and release; NULL is fine. */
void seal_key_free(struct seal_key *k);
/* seal_share with a derived key: the blob carries the key's salt and cost. */
int seal_share_with_key(const struct seal_key *k, const uint8_t *share, size_t share_len,
			const uint8_t *meta, size_t meta_len, uint8_t **blob, size_t *blob_len)
	__attribute__((warn_unused_result));
/*
 * Open a blob sealed with k (its salt and cost must be k's, else CER_E_VERIFY)
 * without another Argon2id run; otherwise as seal_open.
 */
int seal_open_with_key(const struct seal_key *k, const uint8_t *blob, size_t len,
		       struct secret **share_out) __attribute__((warn_unused_result));

/*
 * Open a blob. allowed is the least cost the caller accepts (normally
 * seal_limits_production(), or seal_limits_test() when the run asked for it); the blob's own cost must be at least that, at least
 * the floor (the test floor only if allowed->test_limits_allowed), and at most
 * the cap, or CER_E_REFUSED before any Argon2 work. A wrong passphrase or any
 * changed byte gives CER_E_PIN "wrong passphrase or damaged sealed share"; a
 * malformed blob gives CER_E_INPUT. On success *share_out is secure memory
 * holding the share, for secret_free().
 */
int seal_open(const struct secret *passphrase, const uint8_t *blob, size_t len,
	      const struct seal_limits *allowed, struct secret **share_out)
	__attribute__((warn_unused_result));

/*
 * The clear metadata of a well-formed blob, without the passphrase (for
 * `card show`). *meta points into blob. Not authenticated until seal_open
 * succeeds: show it as a claim, never act on it alone.
 */
int seal_peek_meta(const uint8_t *blob, size_t len, const uint8_t **meta, size_t *meta_len)
	__attribute__((warn_unused_result));
/* The cost written in a well-formed blob; test_limits_allowed tells if it is below production. */
int seal_peek_limits(const uint8_t *blob, size_t len, struct seal_limits *out)
	__attribute__((warn_unused_result));

#endif

/*
 * backupblob — the wrapped root-key backup file and its commitments.
 *
 * Owns: the versioned blob format (below; docs/backup.md has the rationale),
 * writing it, parsing it through bufread (every length capped, nothing may
 * follow, a SHA-256 checksum over the whole so any damaged byte is found
 * before a card is touched), and the keyed hashes that let a candidate KEK or
 * a single share be checked without revealing either. Does not own: the KEK's
 * life, cards or tokens (backup, p11wrap).
 *
 * Version 1, integers big-endian, "str" = u32 length then bytes:
 *
 *   magic "CERBKUP1" (8) | version u16 = 1 | backup id (8) | key type u8
 *   | str root label (1..64) | str root CKA_ID (1..64) | str root SPKI DER (..4096)
 *   | str root token serial (0..16) | wrap mechanism u32 | known-answer result u8
 *   | salt (32) | KEK commitment (32) | SLIP-39 identifier u16
 *   | share count u16 (1..256) | per share: group index u8, member index u8,
 *     commitment (32) | str wrapped key (1..16384)
 *   | blob MAC (32) = HMAC-SHA256(KEK, "ceremony backup blob v1" || all bytes before)
 *   | checksum (32) = SHA-256(all bytes before)
 *
 * KEK commitment   = HMAC-SHA256(KEK, "ceremony backup KEK v1" || salt)
 * share commitment = HMAC-SHA256(salt, "ceremony backup share v1" || backup id
 *                                || group index || member index || packed share)
 */
#ifndef CEREMONY_BACKUPBLOB_H
#define CEREMONY_BACKUPBLOB_H

#include <stddef.h>
#include <stdint.h>

#include "ceremony/p11key.h"
#include "ceremony/sizes.h"

#define BACKUPBLOB_MAGIC "CERBKUP1"
#define BACKUPBLOB_VERSION 1
#define BACKUPBLOB_ID_LEN 8
#define BACKUPBLOB_SPKI_MAX 4096
#define BACKUPBLOB_SERIAL_MAX 16
#define BACKUPBLOB_WRAPPED_MAX (16 * 1024)
#define BACKUPBLOB_SHARES_MAX 256
#define BACKUPBLOB_MAX_BYTES (64 * 1024)

struct backupblob_share {
	uint8_t group_index;  /* SLIP-39 group index, 0-based */
	uint8_t member_index; /* SLIP-39 member index, 0-based */
	uint8_t commitment[SHA256_LEN];
};

/* A parsed blob; byte fields point into the buffer it was parsed from. */
struct backupblob {
	uint8_t backup_id[BACKUPBLOB_ID_LEN];
	enum key_type key_type;
	char root_label[P11KEY_LABEL_MAX + 1];
	uint8_t root_id[P11KEY_ID_LEN * 4];
	size_t root_id_len;
	const uint8_t *spki;
	size_t spki_len;
	char root_serial[BACKUPBLOB_SERIAL_MAX + 1];
	uint32_t mechanism;
	uint8_t kat; /* enum p11wrap_kat */
	uint8_t salt[SHA256_LEN];
	uint8_t kek_commitment[SHA256_LEN];
	uint16_t slip39_id;
	size_t share_count;
	struct backupblob_share shares[BACKUPBLOB_SHARES_MAX];
	const uint8_t *wrapped;
	size_t wrapped_len;
	/* set by parse: the MAC and what it covers */
	const uint8_t *body;
	size_t body_len;
	uint8_t mac[SHA256_LEN];
};

/* 1 ec-p384, 2 ec-p256, 3 rsa-3072, 4 rsa-4096 in the file. */
uint8_t backupblob_key_type_code(enum key_type t);

int backupblob_kek_commitment(const uint8_t kek[static KEK_LEN],
			      const uint8_t salt[static SHA256_LEN],
			      uint8_t out[static SHA256_LEN]) __attribute__((warn_unused_result));
int backupblob_share_commitment(const uint8_t salt[static SHA256_LEN],
				const uint8_t backup_id[static BACKUPBLOB_ID_LEN], uint8_t group_index,
				uint8_t member_index, const uint8_t *packed, size_t packed_len,
				uint8_t out[static SHA256_LEN])
	__attribute__((warn_unused_result));

/* Serialise b (every field but body/mac) and MAC it with kek; *out is malloc'd. */
int backupblob_encode(const struct backupblob *b, const uint8_t kek[static KEK_LEN],
		      uint8_t **out, size_t *len) __attribute__((warn_unused_result));

/* Parse and checksum; what names the file in messages. out points into buf. */
int backupblob_parse(const uint8_t *buf, size_t len, const char *what, struct backupblob *out)
	__attribute__((warn_unused_result));

/* Read path (at most BACKUPBLOB_MAX_BYTES) and parse; *raw (malloc'd) backs out. */
int backupblob_load(const char *path, uint8_t **raw, size_t *raw_len, struct backupblob *out)
	__attribute__((warn_unused_result));

/* Constant-time: the KEK matches the commitment, then the blob MAC. CER_E_VERIFY if not. */
int backupblob_check_kek(const struct backupblob *b, const uint8_t kek[static KEK_LEN])
	__attribute__((warn_unused_result));

/*
 * The packed share is the one committed for (group, member): CER_E_NOTFOUND
 * when the blob has no such share, CER_E_VERIFY when it differs.
 */
int backupblob_check_share(const struct backupblob *b, uint8_t group_index, uint8_t member_index,
			   const uint8_t *packed, size_t packed_len) __attribute__((warn_unused_result));

#endif

/*
 * sizes — the fixed sizes more than one module agrees on.
 *
 * Owns: the names for digest, key, label and text sizes, so a buffer says what
 * it holds (`uint8_t spki[SHA256_LEN]`, `char hex[SHA256_HEX_SIZE]`) instead of
 * a bare 32 or 65. A _LEN is a count of bytes of data; a _SIZE is a text
 * buffer's size with its terminating NUL. Paths use PATH_MAX (<limits.h>).
 * Does not own: caps on outside input (each module names its own *_MAX).
 */
#ifndef CEREMONY_SIZES_H
#define CEREMONY_SIZES_H

/* A SHA-256 digest (FIPS 180-4): fingerprints, SPKI and TBS hashes, file hashes. */
#define SHA256_LEN 32
/* Its lowercase hex (encode.h's hex_encode) and the NUL. */
#define SHA256_HEX_SIZE (2 * SHA256_LEN + 1)
/* The backup key-encryption key: an AES-256 key (docs/backup.md). */
#define KEK_LEN 32
/* A PKCS#11 object label (CKA_LABEL) we compose or read back, with the NUL. */
#define LABEL_SIZE 256
/* A PKCS#11 token's label and serial number (CK_TOKEN_INFO: blank-padded, no NUL). */
#define TOKEN_LABEL_LEN 32
#define TOKEN_SERIAL_LEN 16
/* A slot's description (CK_SLOT_INFO.slotDescription: blank-padded, no NUL). */
#define SLOT_DESCRIPTION_LEN 64
/* A time as RFC 3339 text ("2026-11-30T12:00:00Z" is 20 bytes), with room and the NUL. */
#define TIME_TEXT_SIZE 32
/* A short name we print: a curve group, a mechanism, a rule, an OID's short name. */
#define NAME_SIZE 64

#endif

/*
 * bufread — one bounds-checked reader for binary formats we own.
 *
 * Owns: walking a byte buffer from the front with getters that check the
 * remaining length first and return CER_E_INPUT (with the offset in the
 * message) instead of reading past the end, in the spirit of OpenSSH's sshbuf.
 * Integers are big-endian. A getter that fails leaves the reader where it was,
 * so callers can stop at the first error. Every parser of untrusted bytes we
 * own (the sealed-share blob, …) goes through it: no pointer arithmetic on
 * untrusted bytes anywhere else. Does not own: the buffer (never copied or
 * freed) or what the fields mean.
 */
#ifndef CEREMONY_BUFREAD_H
#define CEREMONY_BUFREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bufread {
	const uint8_t *p; /* the bytes being read; not owned */
	size_t len;       /* how many bytes p holds */
	size_t off;       /* how many have been read */
};

/* Start reading len bytes at p (p may be NULL when len is 0). */
void bufread_init(struct bufread *b, const uint8_t *p, size_t len);

int bufread_get_u8(struct bufread *b, uint8_t *v) __attribute__((warn_unused_result));
int bufread_get_u16(struct bufread *b, uint16_t *v) __attribute__((warn_unused_result));
int bufread_get_u32(struct bufread *b, uint32_t *v) __attribute__((warn_unused_result));

/* Point *out at the next n bytes (no copy; valid as long as the buffer). */
int bufread_get_bytes(struct bufread *b, size_t n, const uint8_t **out)
	__attribute__((warn_unused_result));
/* Copy the next n bytes into dst, which holds at least n bytes. */
int bufread_copy_bytes(struct bufread *b, uint8_t *dst, size_t n)
	__attribute__((warn_unused_result));
/*
 * A u32 length then that many bytes; lengths above max are refused before
 * anything is read, so a forged length cannot make a caller allocate or scan.
 */
int bufread_get_string(struct bufread *b, size_t max, const uint8_t **out, size_t *out_len)
	__attribute__((warn_unused_result));

/* Bytes read so far, and bytes left. */
size_t bufread_offset(const struct bufread *b);
size_t bufread_remaining(const struct bufread *b);
/* True when every byte has been read; formats refuse trailing data with it. */
bool bufread_at_end(const struct bufread *b);

#endif

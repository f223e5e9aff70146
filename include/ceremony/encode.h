/*
 * encode — hex and grouped-hex text for digests and fingerprints.
 *
 * Owns: turning bytes into lowercase hex, parsing hex back (bounded), and the
 * grouped form people read aloud ("9b41 07de 55aa ..."). Does not own: the
 * PGP word list (readaloud) or what the bytes are.
 */
#ifndef CEREMONY_ENCODE_H
#define CEREMONY_ENCODE_H

#include <stddef.h>
#include <stdint.h>

/* out must hold 2*len+1 bytes. */
void hex_encode(const uint8_t *in, size_t len, char *out);
/* The same into a new string (malloc'd, NUL-terminated). */
int hex_encode_new(const uint8_t *in, size_t len, char **out) __attribute__((warn_unused_result));
/* Parse exactly 2*outlen hex digits (either case); CER_E_INPUT otherwise. */
int hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t outlen)
	__attribute__((warn_unused_result));
/* Groups of 4 hex digits separated by spaces; out must hold 5*len/2+1 bytes. */
void hex_encode_grouped(const uint8_t *in, size_t len, char *out);

#endif

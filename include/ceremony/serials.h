/*
 * serials — fresh certificate serial numbers: HSM random mixed with host random
 * (p11_random_mixed), many serials per draw, each one the CA's history never used.
 *
 * Owns: the draw, the retry on a collision with the history, and the serial's hex
 * as the history keeps it. Does not own: the serial's encoding (certbuild_serial),
 * the history (history), recording a serial as used (the caller, once it is issued
 * or planned).
 */
#ifndef CEREMONY_SERIALS_H
#define CEREMONY_SERIALS_H

#include <stddef.h>
#include <stdint.h>

#include "ceremony/certbuild.h"
#include "ceremony/history.h"
#include "ceremony/p11.h"
#include "ceremony/secret.h"

#define SERIALS_PER_DRAW (SECRET_MIX_MAX_DRAW / CERTBUILD_SERIAL_LEN) /* 64 per HSM draw */
#define SERIALS_TRIES 8 /* fresh serials that may collide with the history before we refuse */
#define SERIAL_HEX_SIZE 41 /* 20 octets in hex and the NUL (RFC 5280 4.1.2.2) */

/* The random bytes drawn and not used yet; zero it before the first serials_next. */
struct serials_draw {
	uint8_t buf[SERIALS_PER_DRAW * CERTBUILD_SERIAL_LEN];
	size_t left, pos;
};

/*
 * The next serial's random bytes (for certbuild_serial) and its hex: a new draw from
 * the HSM when the last one is used up; up to SERIALS_TRIES serials the history holds
 * are skipped, then it is refused (the RNG is broken).
 */
int serials_next(struct p11_session *s, const struct history *hist, struct serials_draw *d,
		 uint8_t rnd[CERTBUILD_SERIAL_LEN], char hex[SERIAL_HEX_SIZE])
	__attribute__((warn_unused_result));
/* Wipe the bytes not used. */
void serials_draw_end(struct serials_draw *d);

/* The serial certbuild_serial makes of these random bytes, in hex as the history keeps it. */
int serials_hex(const uint8_t rnd[CERTBUILD_SERIAL_LEN], char out[SERIAL_HEX_SIZE])
	__attribute__((warn_unused_result));

#endif

/*
 * secret — memory for PINs, passphrases, the KEK and shares, and how they are entered.
 *
 * Owns: process hardening at start (no core dumps, not dumpable, umask 077),
 * guarded and locked allocations (libsodium sodium_malloc) that are wiped when
 * freed, and reading a PIN/passphrase from the terminal without echo or from an
 * RFC 7512 pin-source ("file:PATH"). Secrets never come from argv or the
 * environment. Does not own: what the secret is used for.
 */
#ifndef CEREMONY_SECRET_H
#define CEREMONY_SECRET_H

#include <stddef.h>
#include <stdint.h>

#define SECRET_PIN_MAX 256
/* How often a person may retype a secret: both entries of a new one, or a wrong PIN. */
#define SECRET_ENTRY_TRIES 3

struct secret {
	uint8_t *data; /* NUL-terminated after len bytes, for PIN APIs that want a string */
	size_t len;
	size_t cap;
};

/* Call first in main: libsodium, RLIMIT_CORE 0, PR_SET_DUMPABLE 0, umask 077. */
int secret_init(void) __attribute__((warn_unused_result));

/* A zeroed secret with room for cap bytes (plus the terminating NUL). */
int secret_new(size_t cap, struct secret **out) __attribute__((warn_unused_result));
/* Wipe and release; NULL is fine. */
void secret_free(struct secret *s);

/*
 * Read a secret. source NULL: prompt on the controlling terminal without echo
 * (refused when there is no terminal). source "file:PATH": the file's bytes,
 * one trailing newline removed. what names the secret in messages ("SO PIN").
 */
int secret_read(const char *source, const char *what, size_t max, struct secret **out)
	__attribute__((warn_unused_result));

/* Ask twice on a terminal and insist both match (new PINs), asking both again up to
 * SECRET_ENTRY_TRIES times; a file source is read once. */
int secret_read_new(const char *source, const char *what, size_t max, struct secret **out)
	__attribute__((warn_unused_result));

/* A line to the person at the terminal (retry notes); nothing when there is none. */
void secret_tty_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Where each secret typed again is reported, one line "PROMPT<TAB>REASON" (never the
 * secret), for `ceremony run` to record in the step (issue 11.2); -1 (the default):
 * nowhere. main sets it once, from CEREMONY_NOTES_FD; like cer_err, process-wide.
 */
void secret_notes_to(int fd);
/* An entry that failed (what: its prompt; reason: "wrong PIN", ...): reported to the notes,
 * and, when next_try <= tries, said on the terminal with the try that follows. */
void secret_entry_failed(const char *what, const char *reason, int next_try, int tries);

/* Fill buf with bytes from libsodium's CSPRNG. */
void secret_random(uint8_t *buf, size_t len);

/* The fewest bytes secret_random_mix takes from the other source: two blocks to compare. */
#define SECRET_MIX_BLOCK 16
#define SECRET_MIX_MIN_DRAW (2 * SECRET_MIX_BLOCK)
#define SECRET_MIX_MAX_DRAW 1024
/* How many bytes to draw from the other source for len output bytes (a multiple of the block). */
size_t secret_random_mix_draw(size_t len);
/*
 * out (len bytes) = BLAKE2b(domain, counter, other, libsodium's bytes), so
 * neither source alone decides it. other (other_len bytes, from
 * secret_random_mix_draw) is refused first, naming source, when it is all
 * zeros or when two of its 16-byte blocks are equal: an RNG that answers OK
 * with a constant is found, not trusted. out may be secure memory.
 */
int secret_random_mix(const uint8_t *other, size_t other_len, const char *source, uint8_t *out,
		      size_t len) __attribute__((warn_unused_result));

#endif

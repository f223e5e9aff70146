/*
 * shamir — constant-time Shamir secret sharing over GF(256), as SLIP-39 uses it.
 *
 * Owns: GF(2^8) arithmetic with the Rijndael polynomial x^8+x^4+x^3+x+1
 * (FIPS-197 4.2) done with masks only (no table indexed by secret data, no
 * branch on secret data); Lagrange interpolation at any x; SLIP-39's
 * SplitSecret/RecoverSecret (secret at f(255), digest share at f(254)); and the
 * injectable random source that makes tests reproducible. Does not own: share
 * metadata, mnemonics, passphrase encryption or groups (slip39).
 *
 * Indices (x values), threshold and counts are public; share values, the
 * secret, the digest and every intermediate are secret and wiped after use.
 */
#ifndef CEREMONY_SHAMIR_H
#define CEREMONY_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

#define SHAMIR_MAX_SHARES 16
#define SHAMIR_MIN_LEN 16 /* SLIP-39: at least 128 bits, so the 4-byte digest costs little */
#define SHAMIR_MAX_LEN 64 /* our cap on a shared value: 512 bits */
#define SHAMIR_DIGEST_LEN 4
#define SHAMIR_SECRET_INDEX 255
#define SHAMIR_DIGEST_INDEX 254

/*
 * A source of uniformly random bytes suitable for keys. fill must fill all len
 * bytes. NULL wherever a struct shamir_rng * is taken means libsodium's
 * randombytes_buf; tests pass a deterministic one.
 */
struct shamir_rng {
	void (*fill)(void *ctx, uint8_t *buf, size_t len);
	void *ctx;
};

/* Fill buf from rng, or from libsodium when rng is NULL. */
void shamir_random(const struct shamir_rng *rng, uint8_t *buf, size_t len);

/* a·b in GF(256), constant time in both operands. */
uint8_t shamir_gf256_mul(uint8_t a, uint8_t b);
/* a^-1 in GF(256) as a^254 (so 0 maps to 0), constant time. */
uint8_t shamir_gf256_inv(uint8_t a);

/*
 * out = f(x) for the polynomial of degree < count through (xs[i], ys[i]),
 * byte by byte over len bytes. CER_E_INPUT when two xs are equal (a zero
 * denominator) or count/len are out of range.
 */
int shamir_interpolate(uint8_t x, const uint8_t *xs, const uint8_t *const *ys, size_t count,
		       size_t len, uint8_t *out) __attribute__((warn_unused_result));

/*
 * SLIP-39 SplitSecret(threshold, count, secret): shares[i*len .. (i+1)*len) is
 * the share at x = i for i < count. threshold 1 copies the secret into every
 * share. 1 <= threshold <= count <= 16, SHAMIR_MIN_LEN <= len <= SHAMIR_MAX_LEN.
 * shares must hold count*len bytes and should be secret memory.
 */
int shamir_split(int threshold, int count, const uint8_t *secret, size_t len,
		 const struct shamir_rng *rng, uint8_t *shares) __attribute__((warn_unused_result));

/*
 * SLIP-39 RecoverSecret(threshold, shares): exactly threshold shares (xs, ys);
 * the secret is f(255), checked against the digest share f(254). CER_E_INPUT
 * for a wrong count or duplicate index, CER_E_VERIFY when the digest does not
 * match (the shares do not belong to one split). out gets len bytes only on
 * success.
 */
int shamir_recover(int threshold, const uint8_t *xs, const uint8_t *const *ys, size_t count,
		   size_t len, uint8_t *out) __attribute__((warn_unused_result));

#endif

#include <string.h>

#include <sodium.h>

#include "ceremony/err.h"
#include "ceremony/shamir.h"

void shamir_random(const struct shamir_rng *rng, uint8_t *buf, size_t len)
{
	if (rng != NULL && rng->fill != NULL)
		rng->fill(rng->ctx, buf, len);
	else
		randombytes_buf(buf, len);
}

/*
 * Shift-and-add multiplication. Each step keeps a (mod the Rijndael polynomial
 * 0x11b, FIPS-197 4.2.1 xtime) and adds it when b's bit is set; both choices are
 * made with all-ones/all-zero masks, so time and memory access do not depend on
 * a or b (research 6.4: tables and branches leak; Vault ToB-004).
 */
uint8_t shamir_gf256_mul(uint8_t a, uint8_t b)
{
	uint32_t acc = 0, x = a, y = b;

	for (int i = 0; i < 8; i++) {
		acc ^= x & (0u - (y & 1u));
		y >>= 1;
		x = (x << 1) ^ (0x11bu & (0u - (x >> 7)));
	}
	return (uint8_t)acc;
}

/* a^254 = a^-1 for a != 0 (the multiplicative group has order 255): a^2·a^4·…·a^128. */
uint8_t shamir_gf256_inv(uint8_t a)
{
	uint8_t square = a, result = 1;

	for (int i = 1; i < 8; i++) {
		square = shamir_gf256_mul(square, square);
		result = shamir_gf256_mul(result, square);
	}
	return result;
}

/*
 * Logarithms and powers of the generator 3 in GF(256) (FIPS-197 polynomial).
 * Used only for the Lagrange basis, which depends on the share indices alone:
 * indices are public, so a table indexed by them leaks nothing; secret bytes
 * never index a table (they go through shamir_mul_add's masks).
 */
#include "shamir_tables.inc"

/*
 * The Lagrange basis values L_i(x) = prod_{j!=i} (x - x_j) / (x_i - x_j); in
 * characteristic 2, subtraction is XOR. Everything here is public (x and the
 * indices), so it is computed with logarithms. A zero factor means two equal
 * indices, or x equal to an index (then L_i(x) is 0 or 1: done the long way).
 */
static int shamir_basis(uint8_t x, const uint8_t *xs, size_t count, uint8_t *basis)
{
	for (size_t i = 0; i < count; i++) {
		unsigned lg = 0;
		int zero_num = 0;

		for (size_t j = 0; j < count; j++) {
			uint8_t n = (uint8_t)(x ^ xs[j]), d = (uint8_t)(xs[i] ^ xs[j]);
			if (j == i)
				continue;
			if (d == 0)
				return cer_err(CER_E_INPUT,
					       "shares have the same index %u: every index must be "
					       "distinct",
					       (unsigned)xs[i]);
			if (n == 0)
				zero_num = 1;
			else
				lg += shamir_log[n];
			lg += 255u - shamir_log[d];
		}
		basis[i] = zero_num ? 0 : shamir_exp[lg % 255u];
	}
	return 0;
}

/*
 * acc[0..len) ^= b · y[0..len), eight bytes at a time (SWAR): the same
 * shift-and-add as shamir_gf256_mul, on the eight byte lanes of a 64-bit word,
 * with masks only, so time and memory access depend on neither b nor y.
 */
#define SHAMIR_LANES_LOW7 0x7f7f7f7f7f7f7f7fULL
#define SHAMIR_LANES_BIT0 0x0101010101010101ULL

static uint64_t shamir_lanes_mul(uint64_t x, uint8_t b)
{
	uint64_t acc = 0;

	for (int i = 0; i < 8; i++) {
		acc ^= x & (0ULL - (uint64_t)((b >> i) & 1u));
		/* xtime per lane: shift left within the byte, reduce by 0x1b where bit 7 was set */
		x = ((x & SHAMIR_LANES_LOW7) << 1) ^ (((x >> 7) & SHAMIR_LANES_BIT0) * 0x1bu);
	}
	return acc;
}

static void shamir_mul_add(uint8_t *acc, const uint8_t *y, size_t len, uint8_t b)
{
	size_t k = 0;

	for (; k + 8 <= len; k += 8) {
		uint64_t a, v;
		memcpy(&a, acc + k, 8);
		memcpy(&v, y + k, 8);
		a ^= shamir_lanes_mul(v, b);
		memcpy(acc + k, &a, 8);
		sodium_memzero(&v, sizeof(v));
	}
	for (; k < len; k++)
		acc[k] ^= shamir_gf256_mul(b, y[k]);
}

int shamir_interpolate(uint8_t x, const uint8_t *xs, const uint8_t *const *ys, size_t count,
		       size_t len, uint8_t *out)
{
	uint8_t basis[SHAMIR_MAX_SHARES];
	int r;

	if (count == 0 || count > SHAMIR_MAX_SHARES)
		return cer_err(CER_E_INPUT, "interpolation needs 1 to %d shares, not %zu",
			       SHAMIR_MAX_SHARES, count);
	if (len == 0 || len > SHAMIR_MAX_LEN)
		return cer_err(CER_E_INPUT, "share length %zu is outside 1..%d bytes", len,
			       SHAMIR_MAX_LEN);
	if ((r = shamir_basis(x, xs, count, basis)) != 0)
		return r;
	memset(out, 0, len);
	for (size_t i = 0; i < count; i++)
		shamir_mul_add(out, ys[i], len, basis[i]);
	return 0;
}

/*
 * SLIP-39 "digest": HMAC-SHA256(key = random_part, msg = secret)[0:4]. libsodium's
 * HMAC-SHA256: OpenSSL 3.0's one-shot HMAC() fetches the MAC and digest on every call
 * (locks, allocations), and a backup's subset test computes this thousands of times.
 */
static int shamir_digest(const uint8_t *random_part, size_t random_len, const uint8_t *secret,
			 size_t len, uint8_t digest[static SHAMIR_DIGEST_LEN])
{
	crypto_auth_hmacsha256_state st;
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	int r = 0;

	if (crypto_auth_hmacsha256_init(&st, random_part, random_len) != 0 ||
	    crypto_auth_hmacsha256_update(&st, secret, len) != 0 ||
	    crypto_auth_hmacsha256_final(&st, mac) != 0)
		r = cer_err(CER_E_CRYPTO, "HMAC-SHA256 for the share digest failed");
	else
		memcpy(digest, mac, SHAMIR_DIGEST_LEN);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(mac, sizeof(mac));
	return r;
}

static int shamir_check_params(int threshold, int count, size_t len)
{
	if (threshold < 1 || threshold > count || count > SHAMIR_MAX_SHARES)
		return cer_err(CER_E_INPUT,
			       "threshold %d of %d shares: need 1 <= threshold <= shares <= %d",
			       threshold, count, SHAMIR_MAX_SHARES);
	if (len < SHAMIR_MIN_LEN || len > SHAMIR_MAX_LEN)
		return cer_err(CER_E_INPUT, "a shared value of %zu bytes is outside %d..%d bytes",
			       len, SHAMIR_MIN_LEN, SHAMIR_MAX_LEN);
	return 0;
}

int shamir_split(int threshold, int count, const uint8_t *secret, size_t len,
		 const struct shamir_rng *rng, uint8_t *shares)
{
	uint8_t digest[SHAMIR_MAX_LEN];
	uint8_t xs[SHAMIR_MAX_SHARES];
	const uint8_t *ys[SHAMIR_MAX_SHARES];
	size_t base = (size_t)threshold - 2;
	int r;

	if ((r = shamir_check_params(threshold, count, len)) != 0)
		return r;
	if (threshold == 1) { /* SLIP-39 SplitSecret step 2 */
		for (int i = 0; i < count; i++)
			memcpy(shares + (size_t)i * len, secret, len);
		return 0;
	}
	/* D = HMAC(R, S)[0:4] || R with R random; T-2 random shares at x = 0..T-3. */
	shamir_random(rng, digest + SHAMIR_DIGEST_LEN, len - SHAMIR_DIGEST_LEN);
	if ((r = shamir_digest(digest + SHAMIR_DIGEST_LEN, len - SHAMIR_DIGEST_LEN, secret, len,
			       digest)) != 0)
		goto out;
	shamir_random(rng, shares, base * len);
	for (size_t i = 0; i < base; i++) {
		xs[i] = (uint8_t)i;
		ys[i] = shares + i * len;
	}
	xs[base] = SHAMIR_DIGEST_INDEX;
	ys[base] = digest;
	xs[base + 1] = SHAMIR_SECRET_INDEX;
	ys[base + 1] = secret;
	for (size_t i = base; i < (size_t)count; i++) {
		r = shamir_interpolate((uint8_t)i, xs, ys, base + 2, len, shares + i * len);
		if (r != 0)
			goto out;
	}
	r = 0;
out:
	sodium_memzero(digest, sizeof(digest));
	if (r != 0)
		sodium_memzero(shares, (size_t)count * len);
	return r;
}

int shamir_recover(int threshold, const uint8_t *xs, const uint8_t *const *ys, size_t count,
		   size_t len, uint8_t *out)
{
	uint8_t secret[SHAMIR_MAX_LEN], digest[SHAMIR_MAX_LEN];
	uint8_t check[SHAMIR_DIGEST_LEN];
	int r;

	if ((r = shamir_check_params(threshold, threshold, len)) != 0)
		return r;
	if (count != (size_t)threshold)
		return cer_err(CER_E_INPUT, "threshold is %d but %zu shares were given", threshold,
			       count);
	for (size_t i = 0; i < count; i++)
		for (size_t j = i + 1; j < count; j++)
			if (xs[i] == xs[j])
				return cer_err(CER_E_INPUT,
					       "two shares have the same index %u: every index "
					       "must be distinct",
					       (unsigned)xs[i]);
	if (threshold == 1) {
		memcpy(out, ys[0], len);
		return 0;
	}
	if ((r = shamir_interpolate(SHAMIR_SECRET_INDEX, xs, ys, count, len, secret)) != 0 ||
	    (r = shamir_interpolate(SHAMIR_DIGEST_INDEX, xs, ys, count, len, digest)) != 0)
		goto out;
	if ((r = shamir_digest(digest + SHAMIR_DIGEST_LEN, len - SHAMIR_DIGEST_LEN, secret, len,
			       check)) != 0)
		goto out;
	if (sodium_memcmp(check, digest, SHAMIR_DIGEST_LEN) != 0) {
		r = cer_err(CER_E_VERIFY, "invalid digest: the shares do not belong to one split "
					  "(a wrong, corrupted or foreign share)");
		goto out;
	}
	memcpy(out, secret, len);
	r = 0;
out:
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(digest, sizeof(digest));
	sodium_memzero(check, sizeof(check));
	return r;
}

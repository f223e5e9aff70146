#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
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
static const uint8_t shamir_exp[255] = {
	0x01, 0x03, 0x05, 0x0f, 0x11, 0x33, 0x55, 0xff, 0x1a, 0x2e, 0x72, 0x96,
	0xa1, 0xf8, 0x13, 0x35, 0x5f, 0xe1, 0x38, 0x48, 0xd8, 0x73, 0x95, 0xa4,
	0xf7, 0x02, 0x06, 0x0a, 0x1e, 0x22, 0x66, 0xaa, 0xe5, 0x34, 0x5c, 0xe4,
	0x37, 0x59, 0xeb, 0x26, 0x6a, 0xbe, 0xd9, 0x70, 0x90, 0xab, 0xe6, 0x31,
	0x53, 0xf5, 0x04, 0x0c, 0x14, 0x3c, 0x44, 0xcc, 0x4f, 0xd1, 0x68, 0xb8,
	0xd3, 0x6e, 0xb2, 0xcd, 0x4c, 0xd4, 0x67, 0xa9, 0xe0, 0x3b, 0x4d, 0xd7,
	0x62, 0xa6, 0xf1, 0x08, 0x18, 0x28, 0x78, 0x88, 0x83, 0x9e, 0xb9, 0xd0,
	0x6b, 0xbd, 0xdc, 0x7f, 0x81, 0x98, 0xb3, 0xce, 0x49, 0xdb, 0x76, 0x9a,
	0xb5, 0xc4, 0x57, 0xf9, 0x10, 0x30, 0x50, 0xf0, 0x0b, 0x1d, 0x27, 0x69,
	0xbb, 0xd6, 0x61, 0xa3, 0xfe, 0x19, 0x2b, 0x7d, 0x87, 0x92, 0xad, 0xec,
	0x2f, 0x71, 0x93, 0xae, 0xe9, 0x20, 0x60, 0xa0, 0xfb, 0x16, 0x3a, 0x4e,
	0xd2, 0x6d, 0xb7, 0xc2, 0x5d, 0xe7, 0x32, 0x56, 0xfa, 0x15, 0x3f, 0x41,
	0xc3, 0x5e, 0xe2, 0x3d, 0x47, 0xc9, 0x40, 0xc0, 0x5b, 0xed, 0x2c, 0x74,
	0x9c, 0xbf, 0xda, 0x75, 0x9f, 0xba, 0xd5, 0x64, 0xac, 0xef, 0x2a, 0x7e,
	0x82, 0x9d, 0xbc, 0xdf, 0x7a, 0x8e, 0x89, 0x80, 0x9b, 0xb6, 0xc1, 0x58,
	0xe8, 0x23, 0x65, 0xaf, 0xea, 0x25, 0x6f, 0xb1, 0xc8, 0x43, 0xc5, 0x54,
	0xfc, 0x1f, 0x21, 0x63, 0xa5, 0xf4, 0x07, 0x09, 0x1b, 0x2d, 0x77, 0x99,
	0xb0, 0xcb, 0x46, 0xca, 0x45, 0xcf, 0x4a, 0xde, 0x79, 0x8b, 0x86, 0x91,
	0xa8, 0xe3, 0x3e, 0x42, 0xc6, 0x51, 0xf3, 0x0e, 0x12, 0x36, 0x5a, 0xee,
	0x29, 0x7b, 0x8d, 0x8c, 0x8f, 0x8a, 0x85, 0x94, 0xa7, 0xf2, 0x0d, 0x17,
	0x39, 0x4b, 0xdd, 0x7c, 0x84, 0x97, 0xa2, 0xfd, 0x1c, 0x24, 0x6c, 0xb4,
	0xc7, 0x52, 0xf6,
};
static const uint8_t shamir_log[256] = {
	0x00, 0x00, 0x19, 0x01, 0x32, 0x02, 0x1a, 0xc6, 0x4b, 0xc7, 0x1b, 0x68,
	0x33, 0xee, 0xdf, 0x03, 0x64, 0x04, 0xe0, 0x0e, 0x34, 0x8d, 0x81, 0xef,
	0x4c, 0x71, 0x08, 0xc8, 0xf8, 0x69, 0x1c, 0xc1, 0x7d, 0xc2, 0x1d, 0xb5,
	0xf9, 0xb9, 0x27, 0x6a, 0x4d, 0xe4, 0xa6, 0x72, 0x9a, 0xc9, 0x09, 0x78,
	0x65, 0x2f, 0x8a, 0x05, 0x21, 0x0f, 0xe1, 0x24, 0x12, 0xf0, 0x82, 0x45,
	0x35, 0x93, 0xda, 0x8e, 0x96, 0x8f, 0xdb, 0xbd, 0x36, 0xd0, 0xce, 0x94,
	0x13, 0x5c, 0xd2, 0xf1, 0x40, 0x46, 0x83, 0x38, 0x66, 0xdd, 0xfd, 0x30,
	0xbf, 0x06, 0x8b, 0x62, 0xb3, 0x25, 0xe2, 0x98, 0x22, 0x88, 0x91, 0x10,
	0x7e, 0x6e, 0x48, 0xc3, 0xa3, 0xb6, 0x1e, 0x42, 0x3a, 0x6b, 0x28, 0x54,
	0xfa, 0x85, 0x3d, 0xba, 0x2b, 0x79, 0x0a, 0x15, 0x9b, 0x9f, 0x5e, 0xca,
	0x4e, 0xd4, 0xac, 0xe5, 0xf3, 0x73, 0xa7, 0x57, 0xaf, 0x58, 0xa8, 0x50,
	0xf4, 0xea, 0xd6, 0x74, 0x4f, 0xae, 0xe9, 0xd5, 0xe7, 0xe6, 0xad, 0xe8,
	0x2c, 0xd7, 0x75, 0x7a, 0xeb, 0x16, 0x0b, 0xf5, 0x59, 0xcb, 0x5f, 0xb0,
	0x9c, 0xa9, 0x51, 0xa0, 0x7f, 0x0c, 0xf6, 0x6f, 0x17, 0xc4, 0x49, 0xec,
	0xd8, 0x43, 0x1f, 0x2d, 0xa4, 0x76, 0x7b, 0xb7, 0xcc, 0xbb, 0x3e, 0x5a,
	0xfb, 0x60, 0xb1, 0x86, 0x3b, 0x52, 0xa1, 0x6c, 0xaa, 0x55, 0x29, 0x9d,
	0x97, 0xb2, 0x87, 0x90, 0x61, 0xbe, 0xdc, 0xfc, 0xbc, 0x95, 0xcf, 0xcd,
	0x37, 0x3f, 0x5b, 0xd1, 0x53, 0x39, 0x84, 0x3c, 0x41, 0xa2, 0x6d, 0x47,
	0x14, 0x2a, 0x9e, 0x5d, 0x56, 0xf2, 0xd3, 0xab, 0x44, 0x11, 0x92, 0xd9,
	0x23, 0x20, 0x2e, 0x89, 0xb4, 0x7c, 0xb8, 0x26, 0x77, 0x99, 0xe3, 0xa5,
	0x67, 0x4a, 0xed, 0xde, 0xc5, 0x31, 0xfe, 0x18, 0x0d, 0x63, 0x8c, 0x80,
	0xc0, 0xf7, 0x70, 0x07,
};

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

/* SLIP-39 "digest": HMAC-SHA256(key = random_part, msg = secret)[0:4]. */
static int shamir_digest(const uint8_t *random_part, size_t random_len, const uint8_t *secret,
			 size_t len, uint8_t digest[static SHAMIR_DIGEST_LEN])
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	int r = CER_E_CRYPTO;

	if (HMAC(EVP_sha256(), random_part, (int)random_len, secret, len, mac, &mac_len) ==
		    NULL ||
	    mac_len < SHAMIR_DIGEST_LEN) {
		r = cer_err_ssl(CER_E_CRYPTO, "HMAC-SHA256 for the share digest failed");
		goto out;
	}
	memcpy(digest, mac, SHAMIR_DIGEST_LEN);
	r = 0;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
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
	if (CRYPTO_memcmp(check, digest, SHAMIR_DIGEST_LEN) != 0) {
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

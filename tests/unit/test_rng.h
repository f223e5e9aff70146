/*
 * Reproducible random bytes for the share tests (test_shamir, test_slip39):
 * ChaCha20 keyed by a seed and a call counter, behind struct shamir_rng.
 */
#ifndef CEREMONY_TEST_RNG_H
#define CEREMONY_TEST_RNG_H

#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "ceremony/shamir.h"

struct test_rng {
	uint8_t seed[randombytes_SEEDBYTES];
	uint64_t calls;
};

static inline void test_rng_fill(void *ctx, uint8_t *buf, size_t len)
{
	struct test_rng *t = ctx;
	uint8_t seed[randombytes_SEEDBYTES];

	memcpy(seed, t->seed, sizeof(seed));
	memcpy(seed, &t->calls, sizeof(t->calls));
	t->calls++;
	randombytes_buf_deterministic(buf, len, seed);
}

static inline struct shamir_rng test_rng_make(struct test_rng *t, uint8_t tag)
{
	memset(t, 0, sizeof(*t));
	memset(t->seed, tag, sizeof(t->seed));
	return (struct shamir_rng){test_rng_fill, t};
}

#endif

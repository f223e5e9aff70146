/*
 * A small stand-in for libFuzzer's main, so the harnesses run in `make check`
 * with gcc (and under ASan/UBSan with SANITIZE=1): each seed file named on the
 * command line is run as is, then through a fixed number of deterministic
 * mutations (bit flips, byte changes, truncations, duplicated and deleted
 * runs). A crash or a sanitizer report fails the run. `make fuzz` builds the
 * same harnesses with clang's libFuzzer instead, for open-ended fuzzing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DRIVER_MAX_INPUT (256 * 1024)

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	/* xorshift64*: reproducible, no secret involved */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static size_t mutate(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	size_t n = len < cap ? len : cap, a, b;

	memcpy(out, in, n);
	if (n == 0)
		return 0;
	switch (rng() % 6) {
	case 0: out[rng() % n] ^= (uint8_t)(1u << (rng() % 8)); break;
	case 1: out[rng() % n] = (uint8_t)rng(); break;
	case 2: return rng() % n; /* truncate */
	case 3: /* delete a run */
		a = rng() % n;
		b = a + 1 + rng() % 16;
		if (b > n)
			b = n;
		memmove(out + a, out + b, n - b);
		return n - (b - a);
	case 4: /* duplicate a run */
		a = rng() % n;
		b = 1 + rng() % 16;
		if (a + b > n)
			b = n - a;
		if (n + b > cap)
			return n;
		memmove(out + a + b, out + a, n - a);
		return n + b;
	default: /* an interesting byte */
		out[rng() % n] = (const uint8_t[]){0x00, 0x80, 0xff, 0x7f, 0x30, 0x0a}[rng() % 6];
		break;
	}
	return n;
}

int main(int argc, char **argv)
{
	long rounds = getenv("FUZZ_ROUNDS") != NULL ? atol(getenv("FUZZ_ROUNDS")) : 2000;
	static uint8_t seed[DRIVER_MAX_INPUT], buf[DRIVER_MAX_INPUT], buf2[DRIVER_MAX_INPUT];
	long total = 0;

	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t len;
		if (f == NULL) {
			fprintf(stderr, "%s: cannot open\n", argv[i]);
			return 2;
		}
		len = fread(seed, 1, sizeof(seed), f);
		fclose(f);
		LLVMFuzzerTestOneInput(seed, len);
		for (long k = 0; k < rounds; k++) {
			size_t n = mutate(seed, len, buf, sizeof(buf));
			if (k % 2) { /* stack a second mutation on every other input */
				n = mutate(buf, n, buf2, sizeof(buf2));
				LLVMFuzzerTestOneInput(buf2, n);
			} else
				LLVMFuzzerTestOneInput(buf, n);
			total++;
		}
	}
	printf("%ld inputs from %d seeds, no crash\n", total + argc - 1, argc - 1);
	return 0;
}

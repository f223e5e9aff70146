/*
 * Constant-time check for the GF(256) code, run under valgrind memcheck
 * (tests/integration/test_shamir_ct.sh). Secret inputs are marked undefined;
 * memcheck then reports any branch or memory address that depends on them
 * ("Conditional jump or move depends on uninitialised value(s)", "Use of
 * uninitialised value of size N" for an address). The results are marked
 * defined again before they are compared, so only the arithmetic is judged.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "ceremony/shamir.h"

int main(void)
{
	uint8_t a = 0x57, b = 0x83, inv_in = 0x53, product, inverse;
	uint8_t ys_data[3][32], out[32], xs[3] = {0, 1, 2};
	const uint8_t *ys[3] = {ys_data[0], ys_data[1], ys_data[2]};
	int bad = 0;

	for (int i = 0; i < 3; i++)
		memset(ys_data[i], 0x11 * (i + 1), sizeof(ys_data[i]));

	VALGRIND_MAKE_MEM_UNDEFINED(&a, sizeof(a));
	VALGRIND_MAKE_MEM_UNDEFINED(&b, sizeof(b));
	VALGRIND_MAKE_MEM_UNDEFINED(&inv_in, sizeof(inv_in));
	VALGRIND_MAKE_MEM_UNDEFINED(ys_data, sizeof(ys_data));

	product = shamir_gf256_mul(a, b);
	inverse = shamir_gf256_inv(inv_in);
	/* Share values are secret, indices public: interpolate at the secret index. */
	if (shamir_interpolate(SHAMIR_SECRET_INDEX, xs, ys, 3, sizeof(out), out) != 0)
		bad = 1;

	VALGRIND_MAKE_MEM_DEFINED(&product, sizeof(product));
	VALGRIND_MAKE_MEM_DEFINED(&inverse, sizeof(inverse));
	VALGRIND_MAKE_MEM_DEFINED(out, sizeof(out));
	if (product != 0xc1 || inverse != 0xca)
		bad = 1;
	printf("product %02x inverse %02x f(255)[0] %02x\n", product, inverse, out[0]);
	return bad;
}

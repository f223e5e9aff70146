/* passphrase: the strength rule for new share passphrases (see include/ceremony/passphrase.h). */
#include <string.h>

#include <sodium.h>
#include <zxcvbn.h>

#include "ceremony/err.h"
#include "ceremony/passphrase.h"

/* The estimator keeps lower-cased and un-leeted copies on its stack: wipe what it used. */
#define PASSPHRASE_STACK_SCRUB (64 * 1024)

const char *passphrase_rule(void)
{
	return "a share passphrase needs at least 12 characters and an estimated strength of at "
	       "least 50 bits (zxcvbn): four or more random words (diceware) are a good choice";
}

__attribute__((noinline)) static void passphrase_stack_scrub(void)
{
	volatile unsigned char scrub[PASSPHRASE_STACK_SCRUB];

	sodium_memzero((void *)scrub, sizeof(scrub));
	__asm__ __volatile__("" : : "r"(scrub) : "memory");
}

/* zxcvbn's estimate in bits (it returns log2 of the guesses). */
__attribute__((noinline)) static double passphrase_bits(const struct secret *pass)
{
	return ZxcvbnMatch((const char *)pass->data, NULL, NULL);
}

int passphrase_check(const struct secret *pass, const char *what)
{
	double bits;

	if (pass->len < PASSPHRASE_MIN_CHARS)
		return cer_err(CER_E_PIN, "%s: %zu characters is too short: %s", what, pass->len,
			       passphrase_rule());
	if (memchr(pass->data, '\0', pass->len) != NULL)
		return cer_err(CER_E_PIN, "%s: the passphrase holds a NUL byte", what);
	bits = passphrase_bits(pass);
	passphrase_stack_scrub();
	if (bits < PASSPHRASE_MIN_BITS)
		return cer_err(CER_E_PIN, "%s: estimated strength %.0f bits is too weak: %s", what,
			       bits, passphrase_rule());
	return 0;
}

/*
 * passphrase — the strength rule for a new share passphrase (issue 11 item 9).
 *
 * Owns: the rule (a minimum length and a minimum strength estimate from
 * zxcvbn, Dropbox's estimator as packaged by Debian: libzxcvbn), its wording,
 * which is shown before anyone types, and the check. Does not own: reading the
 * passphrase (secret) or what it protects (seal, backup). The passphrase is
 * only read; the estimator's stack is wiped after it ran, and nothing of the
 * passphrase is ever printed.
 */
#ifndef CEREMONY_PASSPHRASE_H
#define CEREMONY_PASSPHRASE_H

#include "ceremony/secret.h"

#define PASSPHRASE_MIN_CHARS 12
#define PASSPHRASE_MIN_BITS 50 /* four diceware words give about 51.7 */

/* The rule in one sentence, for the screen and the docs. */
const char *passphrase_rule(void);

/*
 * 0 if the passphrase follows the rule; else CER_E_PIN with a message naming
 * what (for whom) and what is missing (length, or the estimate in bits),
 * never the passphrase.
 */
int passphrase_check(const struct secret *pass, const char *what)
	__attribute__((warn_unused_result));

#endif

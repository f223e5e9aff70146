/*
 * readaloud — digests shown for people to compare aloud.
 *
 * Owns: the PGP word list (byte at an even position → two-syllable word, odd
 * position → three-syllable word, so a dropped or swapped word is heard) and
 * the two-line form a ceremony shows for a fingerprint: full grouped hex, then
 * words, as DNSSEC root key ceremonies read key digests aloud. Does not own:
 * computing the digest, or the grouped hex itself (encode).
 */
#ifndef CEREMONY_READALOUD_H
#define CEREMONY_READALOUD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define READALOUD_DIGEST_MAX 64  /* SHA-512 */
#define READALOUD_WORD_MAX 11    /* longest word in the list */
#define READALOUD_WORDS_DEFAULT 8 /* words shown by default: 64 bits to compare */
#define READALOUD_WORDS_ALL ((size_t)-1)

/* The word for byte at a 0-based position in a digest. Never NULL. */
const char *readaloud_word(uint8_t byte, size_t position);

/*
 * The words for the first min(len, max_words) bytes, separated by single
 * spaces, NUL-terminated, into out. len is 1..READALOUD_DIGEST_MAX and
 * max_words at least 1. When outsize is too small nothing is written beyond
 * an empty string and CER_E_INTERNAL is returned: never a truncated text.
 */
int readaloud_words(const uint8_t *digest, size_t len, size_t max_words, char *out,
		    size_t outsize) __attribute__((warn_unused_result));

/*
 * The full digest as grouped hex, a newline, then the words for the first
 * max_words bytes (READALOUD_WORDS_ALL for every byte):
 *
 *   9b41 07de 55aa 3c10 ...
 *     read aloud: "puppy decadence ahead telephone edict pedigree cobra autopsy"
 *
 * When the words cover fewer bytes than the digest, the line ends with
 * " (first N of LEN bytes)" so nobody takes a partial comparison for a full one.
 * Same size rule as readaloud_words.
 */
int readaloud_format(const uint8_t *digest, size_t len, size_t max_words, char *out,
		     size_t outsize) __attribute__((warn_unused_result));

/* "  label          9b41 07de ...\n  read aloud     \"puppy decadence ...\"" for people to compare. */
void readaloud_print(FILE *out, const char *label, const uint8_t *digest, size_t len);

#endif

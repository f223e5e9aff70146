#include <stdio.h>
#include <string.h>

#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/readaloud.h"

#include "pgp_words.inc"

/* Room for every word of the longest digest, a space or NUL after each. */
#define READALOUD_WORDS_BUF (READALOUD_DIGEST_MAX * (READALOUD_WORD_MAX + 1))
/* hex_encode_grouped needs 5*len/2+1. */
#define READALOUD_HEX_BUF (5 * READALOUD_DIGEST_MAX / 2 + 1)

const char *readaloud_word(uint8_t byte, size_t position)
{
	return position % 2 == 0 ? pgp_words_even[byte] : pgp_words_odd[byte];
}

static int readaloud_check(const uint8_t *digest, size_t len, size_t max_words, char *out,
			   size_t outsize)
{
	if (out != NULL && outsize > 0)
		out[0] = '\0';
	if (digest == NULL || len == 0 || len > READALOUD_DIGEST_MAX)
		return cer_err(CER_E_INPUT, "read-aloud: a digest of %zu bytes is not within 1..%d",
			       len, READALOUD_DIGEST_MAX);
	if (max_words == 0)
		return cer_err(CER_E_INPUT, "read-aloud: no words asked for");
	if (out == NULL || outsize == 0)
		return cer_err(CER_E_INTERNAL, "read-aloud: no output buffer");
	return 0;
}

int readaloud_words(const uint8_t *digest, size_t len, size_t max_words, char *out,
		    size_t outsize)
{
	size_t n, need = 0, used = 0;
	int r;

	if ((r = readaloud_check(digest, len, max_words, out, outsize)) != 0)
		return r;
	n = len < max_words ? len : max_words;
	/* Measure first so a short buffer gets nothing rather than a cut-off phrase. */
	for (size_t i = 0; i < n; i++)
		need += strlen(readaloud_word(digest[i], i)) + 1;
	if (need > outsize)
		return cer_err(CER_E_INTERNAL,
			       "read-aloud: %zu words need %zu bytes, buffer has %zu", n, need,
			       outsize);
	for (size_t i = 0; i < n; i++) {
		const char *w = readaloud_word(digest[i], i);
		size_t wlen = strlen(w);

		if (i > 0)
			out[used++] = ' ';
		memcpy(out + used, w, wlen);
		used += wlen;
	}
	out[used] = '\0';
	return 0;
}

int readaloud_format(const uint8_t *digest, size_t len, size_t max_words, char *out,
		     size_t outsize)
{
	char hex[READALOUD_HEX_BUF], words[READALOUD_WORDS_BUF], part[48] = "";
	size_t n;
	int r, k;

	if ((r = readaloud_check(digest, len, max_words, out, outsize)) != 0)
		return r;
	n = len < max_words ? len : max_words;
	hex_encode_grouped(digest, len, hex);
	if ((r = readaloud_words(digest, len, n, words, sizeof(words))) != 0)
		return r;
	if (n < len) {
		k = snprintf(part, sizeof(part), " (first %zu of %zu bytes)", n, len);
		if (k < 0 || (size_t)k >= sizeof(part))
			return cer_err(CER_E_INTERNAL, "read-aloud: note does not fit");
	}
	k = snprintf(NULL, 0, "%s\n  read aloud: \"%s\"%s", hex, words, part);
	if (k < 0)
		return cer_err(CER_E_INTERNAL, "read-aloud: cannot format");
	if ((size_t)k >= outsize)
		return cer_err(CER_E_INTERNAL, "read-aloud: text needs %d bytes, buffer has %zu",
			       k + 1, outsize);
	if (snprintf(out, outsize, "%s\n  read aloud: \"%s\"%s", hex, words, part) != k) {
		out[0] = '\0';
		return cer_err(CER_E_INTERNAL, "read-aloud: text changed length");
	}
	return 0;
}

void readaloud_print(FILE *out, const char *label, const uint8_t *digest, size_t len)
{
	char hex[READALOUD_HEX_BUF], words[READALOUD_WORDS_BUF];

	if (len == 0 || len > READALOUD_DIGEST_MAX)
		return;
	hex_encode_grouped(digest, len, hex);
	fprintf(out, "  %-14s %s\n", label, hex);
	/* The same words the printed transcript marks for reading aloud, and which they are. */
	if (readaloud_words(digest, len, READALOUD_WORDS_DEFAULT, words, sizeof(words)) != 0)
		return;
	if (len > READALOUD_WORDS_DEFAULT)
		fprintf(out, "  %-14s \"%s\" (words 1-%d of %zu)\n", "read aloud", words,
			READALOUD_WORDS_DEFAULT, len);
	else
		fprintf(out, "  %-14s \"%s\"\n", "read aloud", words);
}

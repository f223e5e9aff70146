/* termsafe: see its header. */
#include "ceremony/termsafe.h"

/* The UTF-8 sequence at s: its length and code point, or 0 if it is not well formed. */
static size_t utf8_decode(const unsigned char *s, long *cp)
{
	size_t n;
	long c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are not UTF-8. */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static int unsafe_cp(long c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == 0x061c ||
	       (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2060 && c <= 0x2069) || c == 0xfeff;
}

size_t term_next(const unsigned char *s, long *cp, int *unsafe)
{
	size_t n = utf8_decode(s, cp);

	if (n == 0) {
		*cp = -1;
		*unsafe = 1;
		return 1;
	}
	*unsafe = unsafe_cp(*cp);
	return n;
}

void term_put(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		long cp;
		int unsafe;
		size_t n = term_next(p, &cp, &unsafe);
		if (!unsafe)
			fwrite(p, 1, n, f);
		else if (cp < 0x80)
			fprintf(f, "\\x%02x", *p);
		else
			fprintf(f, "\\u{%04lx}", cp);
		p += n;
	}
}

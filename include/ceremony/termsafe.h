/*
 * termsafe — text from transcripts, scripts and certificates, made safe for a terminal.
 *
 * Owns: escaping every character that could move the cursor, change colours, retitle
 * the window, reorder text or hide it: C0 controls and DEL, C1 controls (U+0080 to
 * U+009F), bidirectional and invisible format characters (U+061C, U+200B to U+200F,
 * U+202A to U+202E, U+2060 to U+2069, U+FEFF), and bytes that are not UTF-8. They are
 * shown as \xNN or \u{NNNN}, so a reader sees that they are there. Does not own: HTML
 * (printout) or shell quoting (runner).
 */
#ifndef CEREMONY_TERMSAFE_H
#define CEREMONY_TERMSAFE_H

#include <stddef.h>
#include <stdio.h>

/* Write s to f with every unsafe character escaped. */
void term_put(FILE *f, const char *s);

/* The character at s (not at its end): its length in bytes; *cp its code point, or -1 for
 * a byte that is not UTF-8 (length 1); *unsafe whether it must be escaped. */
size_t term_next(const unsigned char *s, long *cp, int *unsafe);

#endif

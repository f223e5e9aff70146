/*
 * printout — a transcript rendered for people: what was done, when, with which
 * keys, and every hash and fingerprint in groups and words for reading aloud.
 *
 * Owns: the plain-text and the printable HTML rendering of a chain-verified
 * transcript (every string from the transcript escaped for HTML, and control
 * characters replaced in text so a hostile record cannot drive a terminal), and
 * writing outside text safely. Does not own: verification (transcript, audit),
 * the digest words (readaloud).
 */
#ifndef CEREMONY_PRINTOUT_H
#define CEREMONY_PRINTOUT_H

#include <stdio.h>

enum printout_format { PRINTOUT_TEXT, PRINTOUT_HTML };

int printout_transcript(const char *path, enum printout_format format, FILE *out)
	__attribute__((warn_unused_result));

/* s with control characters (C0, DEL) shown as '?': for text that came from a file. */
void printout_safe(FILE *out, const char *s);
/* s with & < > " ' as HTML entities and control characters as '?'. */
void printout_html(FILE *out, const char *s);

#endif

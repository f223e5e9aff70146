/*
 * textbuf — text into fixed-size buffers, never silently cut.
 *
 * Owns: formatting and copying into a char array of known size, with a failure
 * (CER_E_INPUT, and a detail naming what was too long) instead of a silently
 * shortened string; and the one explicit way to shorten on purpose. Does not
 * own: the sizes themselves (sizes.h, or the buffer's own module).
 */
#ifndef CEREMONY_TEXTBUF_H
#define CEREMONY_TEXTBUF_H

#include <stddef.h>

/*
 * Format into out[size]. On success 0. If the text does not fit, out holds ""
 * and the result is CER_E_INPUT with the detail "WHAT is too long (N bytes, at
 * most M)"; what names the text for the user ("transcript path").
 */
int text_format(char *out, size_t size, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), warn_unused_result));
/* Copy src (NULL copies "") into out[size]; fails as text_format does. */
int text_copy(char *out, size_t size, const char *what, const char *src)
	__attribute__((warn_unused_result));
/* Format after the text already in out; on failure out keeps its old text. */
int text_append(char *out, size_t size, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), warn_unused_result));
/*
 * Shorten on purpose: format into out[size], cutting what does not fit. Only
 * where a shorter text is better than a failure (an error detail being built
 * while failing already, a column that is cut for display). Returns 1 if the
 * text was cut, 0 if not; it records no error detail.
 */
int text_format_cut(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ceremony/err.h"
#include "ceremony/textbuf.h"

/* The one place that turns vsnprintf's result into "it fit" or a named failure. */
__attribute__((format(printf, 4, 0))) static int text_vformat(char *out, size_t size,
							      const char *what, const char *fmt,
							      va_list ap)
{
	int n;

	if (out == NULL || size == 0)
		return cer_err(CER_E_INTERNAL, "%s: no room to write it", what);
	n = vsnprintf(out, size, fmt, ap);
	if (n < 0) {
		out[0] = '\0';
		return cer_err(CER_E_INTERNAL, "%s: cannot format it", what);
	}
	if ((size_t)n >= size) {
		out[0] = '\0';
		return cer_err(CER_E_INPUT, "%s is too long (%d bytes, at most %zu)", what, n,
			       size - 1);
	}
	return 0;
}

int text_format(char *out, size_t size, const char *what, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = text_vformat(out, size, what, fmt, ap);
	va_end(ap);
	return r;
}

int text_copy(char *out, size_t size, const char *what, const char *src)
{
	return text_format(out, size, what, "%s", src != NULL ? src : "");
}

int text_append(char *out, size_t size, const char *what, const char *fmt, ...)
{
	va_list ap;
	size_t used;
	int r;

	if (out == NULL || size == 0)
		return cer_err(CER_E_INTERNAL, "%s: no room to write it", what);
	used = strnlen(out, size);
	if (used >= size)
		return cer_err(CER_E_INTERNAL, "%s: the buffer is not terminated", what);
	va_start(ap, fmt);
	r = text_vformat(out + used, size - used, what, fmt, ap);
	va_end(ap);
	if (r != 0) {
		out[used] = '\0';
		if (r == CER_E_INPUT)
			/* Name the whole text's limit, not what was left of it. */
			return cer_err(CER_E_INPUT, "%s is too long (more than %zu bytes)", what,
				       size - 1);
	}
	return r;
}

int text_format_cut(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (out == NULL || size == 0)
		return 1;
	va_start(ap, fmt);
	n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	if (n < 0) {
		out[0] = '\0';
		return 1;
	}
	return (size_t)n >= size;
}

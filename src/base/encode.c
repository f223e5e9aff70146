#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/encode.h"
#include "ceremony/err.h"

static const char hex_digits[] = "0123456789abcdef";

void hex_encode(const uint8_t *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex_digits[in[i] >> 4];
		out[2 * i + 1] = hex_digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

int hex_encode_new(const uint8_t *in, size_t len, char **out)
{
	if (len > (SIZE_MAX - 1) / 2 || (*out = malloc(2 * len + 1)) == NULL) {
		*out = NULL;
		return cer_err(CER_E_NOMEM, "out of memory");
	}
	hex_encode(in, len, *out);
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t outlen)
{
	if (hexlen != 2 * outlen)
		return cer_err(CER_E_INPUT, "expected %zu hex digits, got %zu", 2 * outlen,
			       hexlen);
	for (size_t i = 0; i < outlen; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return cer_err(CER_E_INPUT, "not a hex digit at position %zu", 2 * i);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void hex_encode_grouped(const uint8_t *in, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (i > 0 && i % 2 == 0)
			out[o++] = ' ';
		out[o++] = hex_digits[in[i] >> 4];
		out[o++] = hex_digits[in[i] & 0x0f];
	}
	out[o] = '\0';
}

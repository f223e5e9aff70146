#include "ceremony/bufread.h"
#include "ceremony/err.h"

void bufread_init(struct bufread *b, const uint8_t *p, size_t len)
{
	b->p = p;
	b->len = p == NULL ? 0 : len;
	b->off = 0;
}

size_t bufread_offset(const struct bufread *b)
{
	return b->off;
}

size_t bufread_remaining(const struct bufread *b)
{
	/* off never exceeds len: every getter checks before it advances. */
	return b->len - b->off;
}

bool bufread_at_end(const struct bufread *b)
{
	return bufread_remaining(b) == 0;
}

/* The single place that decides whether n more bytes exist. */
static int bufread_need(const struct bufread *b, size_t n)
{
	if (n > bufread_remaining(b))
		return cer_err(CER_E_INPUT, "truncated: need %zu bytes at offset %zu, %zu left", n,
			       b->off, bufread_remaining(b));
	return 0;
}

int bufread_get_bytes(struct bufread *b, size_t n, const uint8_t **out)
{
	int r;

	*out = NULL;
	if ((r = bufread_need(b, n)) != 0)
		return r;
	*out = b->p + b->off;
	b->off += n;
	return 0;
}

int bufread_copy_bytes(struct bufread *b, uint8_t *dst, size_t n)
{
	const uint8_t *src;
	int r;

	if ((r = bufread_get_bytes(b, n, &src)) != 0)
		return r;
	for (size_t i = 0; i < n; i++)
		dst[i] = src[i];
	return 0;
}

int bufread_get_u8(struct bufread *b, uint8_t *v)
{
	const uint8_t *q;
	int r;

	*v = 0;
	if ((r = bufread_get_bytes(b, 1, &q)) != 0)
		return r;
	*v = q[0];
	return 0;
}

int bufread_get_u16(struct bufread *b, uint16_t *v)
{
	const uint8_t *q;
	int r;

	*v = 0;
	if ((r = bufread_get_bytes(b, 2, &q)) != 0)
		return r;
	*v = (uint16_t)((uint16_t)q[0] << 8 | q[1]);
	return 0;
}

int bufread_get_u32(struct bufread *b, uint32_t *v)
{
	const uint8_t *q;
	int r;

	*v = 0;
	if ((r = bufread_get_bytes(b, 4, &q)) != 0)
		return r;
	*v = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
	return 0;
}

int bufread_get_string(struct bufread *b, size_t max, const uint8_t **out, size_t *out_len)
{
	size_t start = b->off;
	uint32_t n;
	int r;

	*out = NULL;
	*out_len = 0;
	if ((r = bufread_get_u32(b, &n)) != 0)
		return r;
	if (n > max) {
		b->off = start;
		return cer_err(CER_E_INPUT, "length %u at offset %zu is above the limit of %zu",
			       (unsigned)n, start, max);
	}
	if ((r = bufread_get_bytes(b, n, out)) != 0) {
		b->off = start;
		return r;
	}
	*out_len = n;
	return 0;
}

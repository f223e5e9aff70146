/*
 * SLIP-39 share layout, RS1024 checksum, mnemonic words and the packed form.
 *
 * Share words are secret: the word lookup in both directions scans the whole
 * list and selects with masks, and the checksum uses masks, so timing does not
 * depend on which words a share has (it does depend on their lengths and count).
 */
#include <string.h>

#include <sodium.h>

#include "ceremony/err.h"
#include "ceremony/slip39.h"

/* Each word zero-padded to 9 bytes, so comparisons read the same bytes for every word. */
static const char slip39_wordlist[SLIP39_WORD_COUNT][SLIP39_MAX_WORD_LEN + 1] = {
#include "slip39_wordlist.inc"
};

#define SLIP39_RADIX_BITS 10
#define SLIP39_CHECKSUM_WORDS 3
#define SLIP39_ID_BITS 15

const char *slip39_word(size_t i)
{
	return i < SLIP39_WORD_COUNT ? slip39_wordlist[i] : NULL;
}

/* 1 if v == 0 else 0, without a branch; v < 2^31. */
static uint32_t ct_is_zero(uint32_t v)
{
	return ((v - 1u) >> 31) & 1u;
}

/*
 * A bounds-checked big-endian bit stream over 10-bit words (style rule 5: the
 * one place that does bit arithmetic on share data). Writing needs zeroed words.
 */
struct slip39_bits {
	uint16_t *out;      /* for bits_put */
	const uint16_t *in; /* for bits_get */
	size_t nwords;
	size_t bit;
};

static int bits_put(struct slip39_bits *b, uint32_t value, unsigned nbits)
{
	if (b->out == NULL || nbits > 32 || b->bit + nbits > b->nwords * SLIP39_RADIX_BITS)
		return cer_err(CER_E_INTERNAL, "SLIP-39 bit writer overflow");
	for (unsigned k = nbits; k-- > 0; b->bit++) {
		size_t w = b->bit / SLIP39_RADIX_BITS;
		unsigned pos = SLIP39_RADIX_BITS - 1 - (unsigned)(b->bit % SLIP39_RADIX_BITS);
		b->out[w] |= (uint16_t)(((value >> k) & 1u) << pos);
	}
	return 0;
}

static int bits_get(struct slip39_bits *b, unsigned nbits, uint32_t *value)
{
	uint32_t v = 0;

	if (b->in == NULL || nbits > 32 || b->bit + nbits > b->nwords * SLIP39_RADIX_BITS)
		return cer_err(CER_E_INTERNAL, "SLIP-39 bit reader overflow");
	for (unsigned k = 0; k < nbits; k++, b->bit++) {
		size_t w = b->bit / SLIP39_RADIX_BITS;
		unsigned pos = SLIP39_RADIX_BITS - 1 - (unsigned)(b->bit % SLIP39_RADIX_BITS);
		v = (v << 1) | ((b->in[w] >> pos) & 1u);
	}
	*value = v;
	return 0;
}

/* SLIP-39 "Checksum": RS1024 over GF(1024), customization string first. */
static uint32_t rs1024_step(uint32_t chk, uint32_t v)
{
	static const uint32_t gen[10] = {
		0xE0E040,   0x1C1C080,  0x3838100,  0x7070200,  0xE0E0009,
		0x1C0C2412, 0x38086C24, 0x3090FC48, 0x21B1F890, 0x3F3F120,
	};
	uint32_t top = chk >> 20;

	chk = ((chk & 0xFFFFFu) << 10) ^ v;
	for (unsigned i = 0; i < 10; i++)
		chk ^= gen[i] & (0u - ((top >> i) & 1u));
	return chk;
}

static uint32_t rs1024_polymod(int ext, const uint16_t *words, size_t n, size_t zeros)
{
	const char *cs = ext ? "shamir_extendable" : "shamir";
	uint32_t chk = 1;

	for (size_t i = 0; cs[i] != '\0'; i++)
		chk = rs1024_step(chk, (uint8_t)cs[i]);
	for (size_t i = 0; i < n; i++)
		chk = rs1024_step(chk, words[i]);
	for (size_t i = 0; i < zeros; i++)
		chk = rs1024_step(chk, 0);
	return chk;
}

static int slip39_share_check(const struct slip39_share *s)
{
	if (s->id >= (1u << SLIP39_ID_BITS) || s->ext > 1 ||
	    s->iteration_exponent > SLIP39_MAX_ITERATION_EXPONENT || s->group_index >= 16 ||
	    s->group_threshold < 1 || s->group_count < s->group_threshold || s->group_count > 16 ||
	    s->member_index >= 16 || s->member_threshold < 1 || s->member_threshold > 16)
		return cer_err(CER_E_INPUT, "share metadata out of the SLIP-39 ranges");
	if (s->value_len < SLIP39_MIN_SECRET_LEN || s->value_len > SLIP39_MAX_SECRET_LEN ||
	    s->value_len % 2 != 0)
		return cer_err(CER_E_INPUT, "a share value of %zu bytes is not an even 16..%d",
			       s->value_len, SLIP39_MAX_SECRET_LEN);
	return 0;
}

int slip39_share_to_indices(const struct slip39_share *share, uint16_t *words, size_t *n)
{
	size_t value_words = (share->value_len * 8 + SLIP39_RADIX_BITS - 1) / SLIP39_RADIX_BITS;
	size_t total, data;
	struct slip39_bits b;
	uint32_t chk;
	int r;

	if ((r = slip39_share_check(share)) != 0)
		return r;
	total = SLIP39_METADATA_WORDS + value_words;
	data = total - SLIP39_CHECKSUM_WORDS;
	memset(words, 0, total * sizeof(*words));
	b = (struct slip39_bits){words, NULL, data, 0};
	/* SLIP-39 "Format of the share mnemonic": fields in order, thresholds minus one. */
	if ((r = bits_put(&b, share->id, SLIP39_ID_BITS)) != 0 ||
	    (r = bits_put(&b, share->ext, 1)) != 0 ||
	    (r = bits_put(&b, share->iteration_exponent, 4)) != 0 ||
	    (r = bits_put(&b, share->group_index, 4)) != 0 ||
	    (r = bits_put(&b, share->group_threshold - 1u, 4)) != 0 ||
	    (r = bits_put(&b, share->group_count - 1u, 4)) != 0 ||
	    (r = bits_put(&b, share->member_index, 4)) != 0 ||
	    (r = bits_put(&b, share->member_threshold - 1u, 4)) != 0 ||
	    (r = bits_put(&b, 0, (unsigned)(value_words * 10 - share->value_len * 8))) != 0)
		goto out;
	for (size_t i = 0; i < share->value_len; i++)
		if ((r = bits_put(&b, share->value[i], 8)) != 0)
			goto out;
	chk = rs1024_polymod(share->ext, words, data, SLIP39_CHECKSUM_WORDS) ^ 1u;
	for (size_t i = 0; i < SLIP39_CHECKSUM_WORDS; i++)
		words[data + i] = (uint16_t)((chk >> (10 * (SLIP39_CHECKSUM_WORDS - 1 - i))) & 1023u);
	*n = total;
	r = 0;
out:
	if (r != 0)
		sodium_memzero(words, total * sizeof(*words));
	return r;
}

/* The fields after the checksum is known good (read in SLIP-39 order). */
static int slip39_read_fields(struct slip39_bits *b, struct slip39_share *s)
{
	uint32_t v[8];
	static const unsigned widths[8] = {SLIP39_ID_BITS, 1, 4, 4, 4, 4, 4, 4};
	int r;

	for (size_t i = 0; i < 8; i++)
		if ((r = bits_get(b, widths[i], &v[i])) != 0)
			return r;
	s->id = (uint16_t)v[0];
	s->ext = (uint8_t)v[1];
	s->iteration_exponent = (uint8_t)v[2];
	s->group_index = (uint8_t)v[3];
	s->group_threshold = (uint8_t)(v[4] + 1);
	s->group_count = (uint8_t)(v[5] + 1);
	s->member_index = (uint8_t)v[6];
	s->member_threshold = (uint8_t)(v[7] + 1);
	return 0;
}

int slip39_share_from_indices(const uint16_t *words, size_t n, struct slip39_share *share)
{
	struct slip39_bits b;
	size_t value_bits, padding;
	uint32_t pad_value = 0, byte = 0, ext;
	int r;

	memset(share, 0, sizeof(*share));
	if (n < SLIP39_MIN_WORDS)
		return cer_err(CER_E_INPUT, "invalid length: a share has at least %d words, not %zu",
			       SLIP39_MIN_WORDS, n);
	if (n > SLIP39_MAX_WORDS)
		return cer_err(CER_E_INPUT, "invalid length: a share has at most %d words, not %zu",
			       SLIP39_MAX_WORDS, n);
	for (size_t i = 0; i < n; i++)
		if (words[i] >= SLIP39_WORD_COUNT)
			return cer_err(CER_E_INPUT, "word %zu is not a 10-bit word index", i + 1);
	/* SLIP-39: the value is left-padded to whole words with at most 8 zero bits. */
	value_bits = (n - SLIP39_METADATA_WORDS) * SLIP39_RADIX_BITS;
	padding = value_bits % 16;
	if (padding > 8)
		return cer_err(CER_E_INPUT,
			       "invalid length: %zu words cannot hold a secret of whole 16-bit "
			       "units (%zu padding bits, at most 8)",
			       n, padding);
	ext = (words[1] >> 4) & 1u; /* the flag is bit 16 of the 20 id/ext/e bits */
	if (rs1024_polymod((int)ext, words, n, 0) != 1u)
		return cer_err(CER_E_INPUT, "invalid checksum (RS1024, customization \"%s\"): a "
					    "word is wrong or missing",
			       ext ? "shamir_extendable" : "shamir");
	b = (struct slip39_bits){NULL, words, n - SLIP39_CHECKSUM_WORDS, 0};
	if ((r = slip39_read_fields(&b, share)) != 0)
		goto out;
	if (share->group_threshold > share->group_count) {
		r = cer_err(CER_E_INPUT, "group threshold %u is greater than the group count %u",
			    share->group_threshold, share->group_count);
		goto out;
	}
	if ((r = bits_get(&b, (unsigned)padding, &pad_value)) != 0)
		goto out;
	if (pad_value != 0) {
		r = cer_err(CER_E_INPUT, "invalid padding: the %zu padding bits are not zero",
			    padding);
		goto out;
	}
	share->value_len = (value_bits - padding) / 8;
	for (size_t i = 0; i < share->value_len; i++) {
		if ((r = bits_get(&b, 8, &byte)) != 0)
			goto out;
		share->value[i] = (uint8_t)byte;
	}
	r = 0;
out:
	byte = 0;
	if (r != 0)
		sodium_memzero(share, sizeof(*share));
	return r;
}

/* Constant-time word lookup: scan all 1024 words, keep the index whose bytes match. */
static int slip39_word_index(const char *word, size_t len, uint16_t *index)
{
	unsigned char padded[SLIP39_MAX_WORD_LEN + 1] = {0};
	uint32_t found = 0, idx = 0;

	if (len > SLIP39_MAX_WORD_LEN)
		return CER_E_NOTFOUND;
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)word[k];
		uint32_t upper = ((uint32_t)(c - 'A') < 26u);
		padded[k] = (unsigned char)(c | (upper << 5));
	}
	for (uint32_t i = 0; i < SLIP39_WORD_COUNT; i++) {
		uint32_t diff = 0, hit;
		for (size_t k = 0; k <= SLIP39_MAX_WORD_LEN; k++)
			diff |= padded[k] ^ (unsigned char)slip39_wordlist[i][k];
		hit = ct_is_zero(diff);
		idx |= i & (0u - hit);
		found |= hit;
	}
	*index = (uint16_t)idx;
	sodium_memzero(padded, sizeof(padded));
	return found ? 0 : CER_E_NOTFOUND;
}

int slip39_share_encode(const struct slip39_share *share, char *out, size_t cap)
{
	uint16_t words[SLIP39_MAX_WORDS];
	char word[SLIP39_MAX_WORD_LEN + 1];
	size_t n = 0, used = 0, wlen;
	int r;

	if ((r = slip39_share_to_indices(share, words, &n)) != 0)
		goto out;
	for (size_t w = 0; w < n; w++) {
		memset(word, 0, sizeof(word));
		for (uint32_t i = 0; i < SLIP39_WORD_COUNT; i++) {
			unsigned char mask = (unsigned char)(0u - ct_is_zero(i ^ words[w]));
			for (size_t k = 0; k < sizeof(word); k++)
				word[k] |= (char)(slip39_wordlist[i][k] & mask);
		}
		wlen = strnlen(word, SLIP39_MAX_WORD_LEN);
		if (used + wlen + 2 > cap) {
			r = cer_err(CER_E_INPUT, "the mnemonic does not fit in %zu bytes", cap);
			goto out;
		}
		if (w > 0)
			out[used++] = ' ';
		memcpy(out + used, word, wlen);
		used += wlen;
	}
	out[used] = '\0';
	r = 0;
out:
	sodium_memzero(words, sizeof(words));
	sodium_memzero(word, sizeof(word));
	if (r != 0 && cap > 0)
		sodium_memzero(out, cap);
	return r;
}

int slip39_share_decode(const char *mnemonic, size_t len, struct slip39_share *share)
{
	uint16_t words[SLIP39_MAX_WORDS];
	size_t n = 0, i = 0, start;
	int r;

	memset(share, 0, sizeof(*share));
	while (i < len) {
		while (i < len && (mnemonic[i] == ' ' || mnemonic[i] == '\t'))
			i++;
		if (i >= len || mnemonic[i] == '\0')
			break;
		start = i;
		while (i < len && mnemonic[i] != ' ' && mnemonic[i] != '\t' && mnemonic[i] != '\0')
			i++;
		if (n == SLIP39_MAX_WORDS) {
			r = cer_err(CER_E_INPUT, "invalid length: a share has at most %d words",
				    SLIP39_MAX_WORDS);
			goto out;
		}
		if (slip39_word_index(mnemonic + start, i - start, &words[n]) != 0) {
			r = cer_err(CER_E_INPUT, "word %zu is not in the SLIP-39 word list", n + 1);
			goto out;
		}
		n++;
		if (i < len && mnemonic[i] == '\0')
			break;
	}
	r = slip39_share_from_indices(words, n, share);
out:
	sodium_memzero(words, sizeof(words));
	return r;
}

int slip39_share_pack(const struct slip39_share *share, uint8_t *out, size_t cap, size_t *len)
{
	uint16_t words[SLIP39_MAX_WORDS];
	size_t n = 0, bytes;
	int r;

	if ((r = slip39_share_to_indices(share, words, &n)) != 0)
		goto out;
	bytes = (n * SLIP39_RADIX_BITS + 7) / 8;
	if (bytes > cap) {
		r = cer_err(CER_E_INPUT, "a packed share of %zu bytes does not fit in %zu", bytes,
			    cap);
		goto out;
	}
	memset(out, 0, bytes);
	for (size_t bit = 0; bit < n * SLIP39_RADIX_BITS; bit++) {
		unsigned v = (words[bit / 10] >> (9 - bit % 10)) & 1u;
		out[bit / 8] |= (uint8_t)(v << (7 - bit % 8));
	}
	*len = bytes;
	r = 0;
out:
	sodium_memzero(words, sizeof(words));
	return r;
}

int slip39_share_unpack(const uint8_t *in, size_t len, struct slip39_share *share)
{
	uint16_t words[SLIP39_MAX_WORDS];
	size_t n = len * 8 / SLIP39_RADIX_BITS;
	unsigned tail = 0;
	int r;

	memset(share, 0, sizeof(*share));
	if (n > SLIP39_MAX_WORDS || (n * SLIP39_RADIX_BITS + 7) / 8 != len)
		return cer_err(CER_E_INPUT, "%zu bytes is not the length of a packed SLIP-39 share",
			       len);
	memset(words, 0, sizeof(words));
	for (size_t bit = 0; bit < len * 8; bit++) {
		unsigned v = (in[bit / 8] >> (7 - bit % 8)) & 1u;
		if (bit < n * SLIP39_RADIX_BITS)
			words[bit / 10] |= (uint16_t)(v << (9 - bit % 10));
		else
			tail |= v;
	}
	if (tail != 0) {
		r = cer_err(CER_E_INPUT, "a packed SLIP-39 share has non-zero bits after its last "
					 "word");
		goto out;
	}
	r = slip39_share_from_indices(words, n, share);
out:
	sodium_memzero(words, sizeof(words));
	return r;
}

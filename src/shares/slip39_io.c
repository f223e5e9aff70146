/* slip39_io: share split / combine as streams (see include/ceremony/slip39_io.h). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/secret.h"
#include "ceremony/slip39_io.h"

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return cer_err(CER_E_IO, "cannot write to standard output: %s",
				       strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The passphrase from its source, or an empty one (never a prompt). */
static int read_passphrase(const char *source, struct secret **out)
{
	if (source == NULL)
		return secret_new(0, out);
	return secret_read(source, "passphrase", SLIP39_PASSPHRASE_MAX, out);
}

/* Read the hex secret into secure memory and decode it there. */
static int read_hex_secret(const char *source, struct secret **out)
{
	struct secret *hex = NULL, *s = NULL;
	int r;

	*out = NULL;
	if ((r = secret_read(source, "secret", 2 * SLIP39_MAX_SECRET_LEN, &hex)) != 0)
		goto out;
	if (hex->len % 2 != 0) {
		r = cer_err(CER_E_INPUT, "%s: the secret must be hex with an even number of digits",
			    source);
		goto out;
	}
	if ((r = secret_new(hex->len / 2, &s)) != 0)
		goto out;
	if ((r = hex_decode((const char *)hex->data, hex->len, s->data, hex->len / 2)) != 0) {
		cer_err_prefix("%s: the secret: ", source);
		goto out;
	}
	s->len = hex->len / 2;
	*out = s;
	s = NULL;
	r = 0;
out:
	secret_free(hex);
	secret_free(s);
	return r;
}

static int write_shares(const struct slip39_share_set *set, int fd)
{
	struct secret *text = NULL;
	int r;

	if ((r = secret_new(SLIP39_MNEMONIC_MAX + 1, &text)) != 0)
		return r;
	for (size_t i = 0; i < set->count; i++) {
		const struct slip39_share *s = &set->shares[i];
		if (i > 0 && s->group_index != set->shares[i - 1].group_index &&
		    (r = write_all(fd, "\n", 1)) != 0)
			goto out;
		if ((r = slip39_share_encode(s, (char *)text->data, text->cap)) != 0)
			goto out;
		text->len = strlen((char *)text->data);
		text->data[text->len++] = '\n';
		if ((r = write_all(fd, text->data, text->len)) != 0)
			goto out;
	}
	r = 0;
out:
	secret_free(text);
	return r;
}

int slip39_io_split(const char *secret_source, const char *passphrase_source,
		    const struct slip39_split_params *p, int out_fd, FILE *summary)
{
	struct secret *secret = NULL, *pass = NULL;
	struct slip39_share_set *set = NULL;
	int r;

	if ((r = read_hex_secret(secret_source, &secret)) != 0 ||
	    (r = read_passphrase(passphrase_source, &pass)) != 0)
		goto out;
	if ((r = slip39_split(secret->data, secret->len, (const char *)pass->data, pass->len, p,
			      NULL, &set)) != 0)
		goto out;
	if ((r = write_shares(set, out_fd)) != 0)
		goto out;
	fprintf(summary,
		"ceremony: %zu SLIP-39 shares of a %zu-byte secret, identifier %u, extendable %d, "
		"iteration exponent %d; %d of %d group(s) needed\n",
		set->count, secret->len, set->shares[0].id, p->ext, p->iteration_exponent,
		p->group_threshold, p->group_count);
	r = 0;
out:
	slip39_share_set_free(set);
	secret_free(secret);
	secret_free(pass);
	return r;
}

/* All of fd into secure memory (at most in->cap bytes). */
static int read_all(int fd, struct secret *in)
{
	in->len = 0;
	for (;;) {
		ssize_t n;
		if (in->len == in->cap)
			return cer_err(CER_E_INPUT, "stdin: more than %zu bytes of mnemonics",
				       in->cap);
		n = read(fd, in->data + in->len, in->cap - in->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cer_err(CER_E_IO, "cannot read stdin: %s", strerror(errno));
		if (n == 0)
			break;
		in->len += (size_t)n;
	}
	in->data[in->len] = '\0';
	return 0;
}

/* Cut the input into lines in place, skipping blank ones; pointers into in. */
static int split_lines(struct secret *in, const char **lines, size_t max, size_t *n)
{
	char *text = (char *)in->data;
	size_t start = 0;

	*n = 0;
	for (size_t i = 0; i <= in->len; i++) {
		int blank = 1;
		if (i < in->len && text[i] != '\n')
			continue;
		text[i] = '\0';
		if (i > start && text[i - 1] == '\r')
			text[i - 1] = '\0';
		for (size_t k = start; k < i && text[k] != '\0'; k++)
			if (text[k] != ' ' && text[k] != '\t')
				blank = 0;
		if (!blank) {
			if (*n == max)
				return cer_err(CER_E_INPUT, "more than %zu mnemonics on stdin", max);
			lines[(*n)++] = text + start;
		}
		start = i + 1;
	}
	return 0;
}

int slip39_io_combine(const char *passphrase_source, int in_fd, int out_fd)
{
	struct secret *in = NULL, *pass = NULL, *secret = NULL, *hex = NULL;
	const char *lines[SLIP39_MAX_SHARES];
	size_t n = 0, len = 0;
	int r;

	if ((r = read_passphrase(passphrase_source, &pass)) != 0 ||
	    (r = secret_new(SLIP39_IO_INPUT_MAX, &in)) != 0 ||
	    (r = secret_new(SLIP39_MAX_SECRET_LEN, &secret)) != 0 ||
	    (r = secret_new(2 * SLIP39_MAX_SECRET_LEN + 1, &hex)) != 0)
		goto out;
	if ((r = read_all(in_fd, in)) != 0 || (r = split_lines(in, lines, SLIP39_MAX_SHARES, &n)) != 0)
		goto out;
	if (n == 0) {
		r = cer_err(CER_E_INPUT, "no mnemonics on stdin (one per line)");
		goto out;
	}
	if ((r = slip39_combine(lines, n, (const char *)pass->data, pass->len, secret->data,
				secret->cap, &len)) != 0)
		goto out;
	secret->len = len;
	hex_encode(secret->data, len, (char *)hex->data);
	hex->len = 2 * len;
	hex->data[hex->len++] = '\n';
	r = write_all(out_fd, hex->data, hex->len);
out:
	secret_free(in);
	secret_free(pass);
	secret_free(secret);
	secret_free(hex);
	return r;
}

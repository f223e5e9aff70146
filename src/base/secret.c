#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "ceremony/err.h"
#include "ceremony/secret.h"

#define SECRET_DISCARDED_NOTE "(what was typed before this prompt was discarded)\n"

int secret_init(void)
{
	struct rlimit no_core = {0, 0};

	umask(077);
	if (setrlimit(RLIMIT_CORE, &no_core) != 0)
		return cer_err(CER_E_INTERNAL, "cannot disable core dumps: %s", strerror(errno));
	/* Not dumpable: no core file and no ptrace by other users' processes. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return cer_err(CER_E_INTERNAL, "cannot mark the process undumpable: %s",
			       strerror(errno));
	if (sodium_init() < 0)
		return cer_err(CER_E_CRYPTO, "libsodium failed to initialise");
	return 0;
}

int secret_new(size_t cap, struct secret **out)
{
	struct secret *s;

	*out = NULL;
	s = sodium_malloc(sizeof(*s));
	if (s == NULL)
		return cer_err(CER_E_NOMEM, "cannot allocate secure memory");
	s->data = sodium_malloc(cap + 1);
	if (s->data == NULL) {
		sodium_free(s);
		return cer_err(CER_E_NOMEM, "cannot allocate %zu bytes of secure memory", cap + 1);
	}
	sodium_memzero(s->data, cap + 1);
	s->len = 0;
	s->cap = cap;
	*out = s;
	return 0;
}

void secret_free(struct secret *s)
{
	if (s == NULL)
		return;
	sodium_free(s->data); /* sodium_free wipes before releasing */
	sodium_free(s);
}

void secret_random(uint8_t *buf, size_t len)
{
	randombytes_buf(buf, len);
}

size_t secret_random_mix_draw(size_t len)
{
	size_t n = (len + SECRET_MIX_BLOCK - 1) / SECRET_MIX_BLOCK * SECRET_MIX_BLOCK;

	return n < SECRET_MIX_MIN_DRAW ? SECRET_MIX_MIN_DRAW : n;
}

/* A source that says OK but gives zeros or a repeating pattern is broken, not random. */
static int secret_random_check(const uint8_t *other, size_t len, const char *source)
{
	size_t blocks = len / SECRET_MIX_BLOCK;

	if (sodium_is_zero(other, len))
		return cer_err(CER_E_CRYPTO,
			       "%s's random generator returned %zu zero bytes: it is broken, refused",
			       source, len);
	for (size_t i = 0; i < blocks; i++)
		for (size_t j = i + 1; j < blocks; j++)
			if (sodium_memcmp(other + i * SECRET_MIX_BLOCK, other + j * SECRET_MIX_BLOCK,
					  SECRET_MIX_BLOCK) == 0)
				return cer_err(CER_E_CRYPTO,
					       "%s's random generator returned the same %d-byte "
					       "block twice in one draw: it is broken, refused",
					       source, SECRET_MIX_BLOCK);
	return 0;
}

int secret_random_mix(const uint8_t *other, size_t other_len, const char *source, uint8_t *out,
		      size_t len)
{
	static const char domain[] = "ceremony random mix v1: BLAKE2b(counter, other, host)";
	crypto_generichash_state st;
	struct secret *host = NULL;
	uint8_t counter;
	size_t done = 0;
	int r;

	if (other_len < secret_random_mix_draw(len) || other_len % SECRET_MIX_BLOCK != 0 ||
	    other_len > SECRET_MIX_MAX_DRAW || len > 255 * crypto_generichash_BYTES_MAX)
		return cer_err(CER_E_INTERNAL, "random mix: %zu bytes from %zu is out of range", len,
			       other_len);
	if ((r = secret_random_check(other, other_len, source)) != 0)
		return r;
	if ((r = secret_new(crypto_generichash_BYTES_MAX, &host)) != 0)
		return r;
	randombytes_buf(host->data, crypto_generichash_BYTES_MAX);
	for (counter = 0; done < len; counter++) {
		size_t n = len - done < crypto_generichash_BYTES_MAX ? len - done
								    : crypto_generichash_BYTES_MAX;
		if (crypto_generichash_init(&st, NULL, 0, n) != 0 ||
		    crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain)) != 0 ||
		    crypto_generichash_update(&st, &counter, 1) != 0 ||
		    crypto_generichash_update(&st, other, other_len) != 0 ||
		    crypto_generichash_update(&st, host->data, crypto_generichash_BYTES_MAX) != 0 ||
		    crypto_generichash_final(&st, out + done, n) != 0) {
			r = cer_err(CER_E_CRYPTO, "random mix: BLAKE2b failed");
			break;
		}
		done += n;
	}
	sodium_memzero(&st, sizeof(st));
	secret_free(host);
	return r;
}

/* Read up to s->cap bytes from fd straight into secure memory. */
static int secret_read_fd(int fd, struct secret *s, const char *what, const char *path, int line)
{
	ssize_t n;
	size_t total = 0;
	uint8_t extra;

	for (;;) {
		if (total == s->cap) {
			n = read(fd, &extra, 1);
			if (n > 0)
				return cer_err(CER_E_INPUT, "%s: %s is longer than %zu bytes", path,
					       what, s->cap);
			break;
		}
		n = read(fd, s->data + total, s->cap - total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cer_err(CER_E_IO, "%s: cannot read %s: %s", path, what,
				       strerror(errno));
		if (n == 0)
			break;
		total += (size_t)n;
		/* A terminal gives one line; it never reaches end of file. */
		if (line && s->data[total - 1] == '\n')
			break;
	}
	if (total > 0 && s->data[total - 1] == '\n')
		total--;
	if (total > 0 && s->data[total - 1] == '\r')
		total--;
	sodium_memzero(s->data + total, s->cap + 1 - total);
	s->len = total;
	if (total == 0)
		return cer_err(CER_E_PIN, "%s: %s is empty", path, what);
	return 0;
}

/*
 * A secret's file: a regular file only (O_NONBLOCK, so a FIFO or a device can neither
 * block the open nor feed us without end: STYLE 18), not a symlink, and readable by
 * its owner alone: a PIN file others can read is no secret, so it is refused.
 */
static int secret_read_file(const char *path, const char *what, struct secret *s)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return cer_err(CER_E_NOTFOUND, "%s: cannot open the %s source: %s", path, what,
			       strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		r = cer_err(CER_E_INPUT, "%s: the %s source is not a regular file (a pipe or device "
					 "is refused); nothing was read",
			    path, what);
	else if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		r = cer_err(CER_E_REFUSED, "%s: the %s source may be read by group or others (mode "
					   "%04o); chmod 600 it; nothing was read",
			    path, what, (unsigned)(st.st_mode & 07777));
	else
		r = secret_read_fd(fd, s, what, path, 0);
	close(fd);
	return r;
}

static int notes_fd = -1; /* set once by main (secret_notes_to) */

void secret_notes_to(int fd)
{
	notes_fd = fd;
}

void secret_entry_failed(const char *what, const char *reason, int next_try, int tries)
{
	char line[512];
	int n;

	if (next_try <= tries)
		secret_tty_say("%s; type it again (try %d of %d)\n", reason, next_try, tries);
	if (notes_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s\t%s\n", what, reason);
	if (n > 0 && (size_t)n < sizeof(line) && write(notes_fd, line, (size_t)n) < 0) {
		/* the runner's record of a retyped entry is lost; the entry itself is fine */
	}
}

void secret_tty_say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return; /* no terminal: nobody to tell, and nobody typing */
	if (write(fd, line, strnlen(line, sizeof(line))) < 0) {
		/* a note to the person typing; the caller's own error carries the facts */
	}
	close(fd);
}

static int secret_read_tty(const char *prompt, const char *what, struct secret *s)
{
	struct termios old, noecho;
	int fd, r, pending = 0;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return cer_err(CER_E_PIN,
			       "no terminal to ask for the %s; give it with a pin-source "
			       "(file:PATH)",
			       what);
	if (tcgetattr(fd, &old) != 0) {
		close(fd);
		return cer_err(CER_E_PIN, "cannot switch off echo on the terminal for the %s",
			       what);
	}
	noecho = old;
	noecho.c_lflag &= (tcflag_t) ~(ECHO | ECHONL);
	noecho.c_lflag |= ICANON;
	/* Echo off and type-ahead discarded before the prompt shows, so nothing typed
	 * early is taken as the secret, and nothing typed after the prompt is echoed. */
	{
		/* In canonical mode FIONREAD counts only finished lines; a half-typed one
		 * is counted with ICANON off for a moment (no flush yet). */
		struct termios raw = noecho;
		raw.c_lflag &= (tcflag_t)~ICANON;
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		if (tcsetattr(fd, TCSANOW, &raw) != 0 || ioctl(fd, FIONREAD, &pending) != 0)
			pending = 0;
	}
	if (tcsetattr(fd, TCSAFLUSH, &noecho) != 0) {
		close(fd);
		return cer_err(CER_E_PIN, "cannot switch off echo on the terminal for the %s", what);
	}
	if ((pending > 0 && write(fd, SECRET_DISCARDED_NOTE, strlen(SECRET_DISCARDED_NOTE)) < 0) ||
	    write(fd, prompt, strlen(prompt)) < 0) {
		(void)tcsetattr(fd, TCSAFLUSH, &old); /* best effort: the prompt failed already */
		close(fd);
		return cer_err(CER_E_PIN, "cannot prompt for the %s", what);
	}
	r = secret_read_fd(fd, s, what, "terminal", 1);
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* the newline is cosmetic */
	}
	close(fd);
	return r;
}

int secret_read(const char *source, const char *what, size_t max, struct secret **out)
{
	struct secret *s = NULL;
	char prompt[400];
	int r;

	*out = NULL;
	if ((r = secret_new(max, &s)) != 0)
		return r;
	if (source == NULL) {
		if (snprintf(prompt, sizeof(prompt), "%s: ", what) >= (int)sizeof(prompt))
			prompt[sizeof(prompt) - 1] = '\0';
		r = secret_read_tty(prompt, what, s);
	} else if (strncmp(source, "file:", 5) == 0 && source[5] != '\0') {
		r = secret_read_file(source + 5, what, s);
	} else {
		r = cer_err(CER_E_USAGE,
			    "%s source \"%s\" is not supported: use file:PATH, or leave it out to "
			    "be asked on the terminal",
			    what, source);
	}
	if (r != 0) {
		secret_free(s);
		return r;
	}
	*out = s;
	return 0;
}

int secret_read_new(const char *source, const char *what, size_t max, struct secret **out)
{
	struct secret *a = NULL, *b = NULL;
	char again[400];
	int r = 0;

	*out = NULL;
	if (source != NULL)
		return secret_read(source, what, max, out);
	if (snprintf(again, sizeof(again), "%s (again)", what) >= (int)sizeof(again))
		again[sizeof(again) - 1] = '\0';
	/* A typo in the second entry is asked again, not a failed step (issue 11.2). */
	for (int try = 1; try <= SECRET_ENTRY_TRIES; try++) {
		secret_free(a);
		secret_free(b);
		a = b = NULL;
		if ((r = secret_read(NULL, what, max, &a)) != 0 ||
		    (r = secret_read(NULL, again, max, &b)) != 0)
			goto out;
		if (a->len == b->len && sodium_memcmp(a->data, b->data, a->len) == 0) {
			*out = a;
			a = NULL;
			r = 0;
			goto out;
		}
		r = cer_err(CER_E_PIN, "the two entries of the %s differ", what);
		secret_entry_failed(what, "the two entries differ", try + 1, SECRET_ENTRY_TRIES);
	}
	r = cer_err(CER_E_PIN, "the two entries of the %s differed %d times; nothing was set", what,
		    SECRET_ENTRY_TRIES);
out:
	secret_free(a);
	secret_free(b);
	return r;
}

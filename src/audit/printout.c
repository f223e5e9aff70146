#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/printout.h"
#include "ceremony/sizes.h"
#include "ceremony/termsafe.h"
#include "ceremony/readaloud.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"

#define PRINTOUT_DEPTH_MAX 6
#define PRINTOUT_LABEL_MAX 128
#define PRINTOUT_LONG_HEX_SHOWN 16 /* bytes of a long hex value (a DER key) shown */

struct printer {
	FILE *out;
	int html;
	long records;
};

void printout_safe(FILE *out, const char *s)
{
	term_put(out, s); /* C0, C1, bidi and invisible characters escaped, never sent raw */
}

void printout_html(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: {
			long cp;
			int unsafe;
			size_t n = term_next(p, &cp, &unsafe);
			if (!unsafe)
				fwrite(p, 1, n, out);
			else if (cp < 0x80)
				fprintf(out, "\\x%02x", *p);
			else
				fprintf(out, "\\u{%04lx}", cp);
			p += n - 1;
		}
		}
	}
}

static void put(struct printer *pr, const char *s)
{
	if (pr->html)
		printout_html(pr->out, s);
	else
		printout_safe(pr->out, s);
}

static int is_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

static void field_begin(struct printer *pr, const char *label)
{
	if (pr->html) {
		fputs("<tr><th>", pr->out);
		put(pr, label);
		fputs("</th><td>", pr->out);
	} else {
		fputs("    ", pr->out);
		put(pr, label);
		for (size_t n = strlen(label); n < 24; n++)
			fputc(' ', pr->out);
		fputc(' ', pr->out);
	}
}

static void field_end(struct printer *pr)
{
	fputs(pr->html ? "</td></tr>\n" : "\n", pr->out);
}

static void field_text(struct printer *pr, const char *label, const char *value)
{
	field_begin(pr, label);
	put(pr, value);
	field_end(pr);
}

static void mark_truncated(char *out, size_t size, size_t full);

/* A SHA-256 (or other digest): grouped hex, then every byte as a PGP word. */
static void field_digest(struct printer *pr, const char *label, const uint8_t *d, size_t len)
{
	char hex[5 * READALOUD_DIGEST_MAX / 2 + 1];
	char words[READALOUD_DIGEST_MAX * (READALOUD_WORD_MAX + 1) + 1];
	char rest[READALOUD_DIGEST_MAX * (READALOUD_WORD_MAX + 1) + 1], part[64];
	size_t n = READALOUD_WORDS_DEFAULT;

	/* The screen reads aloud words 1-8; the paper marks the same part, then gives the
	 * rest for a full comparison (an even split keeps each word's list: 8 is even). */
	hex_encode_grouped(d, len, hex);
	if (len <= n || readaloud_words(d, len, n, words, sizeof(words)) != 0 ||
	    readaloud_words(d + n, len - n, READALOUD_WORDS_ALL, rest, sizeof(rest)) != 0) {
		n = len;
		rest[0] = '\0';
		if (readaloud_words(d, len, READALOUD_WORDS_ALL, words, sizeof(words)) != 0)
			words[0] = '\0';
	}
	/* The printout's rule: text cut to fit the page says so (mark_truncated). */
	if (rest[0] != '\0' ? text_format_cut(part, sizeof(part),
					      "read aloud (words 1-%zu of %zu, as on screen)", n,
					      len)
			    : text_format_cut(part, sizeof(part), "read aloud"))
		mark_truncated(part, sizeof(part), 0);
	field_begin(pr, label);
	if (pr->html) {
		fputs("<code class=\"hash\">", pr->out);
		put(pr, hex);
		fprintf(pr->out, "</code><br><span class=\"words\">%s: <strong>", part);
		put(pr, words);
		fputs("</strong>", pr->out);
		if (rest[0] != '\0') {
			fprintf(pr->out, "<br>words %zu-%zu, to compare the whole hash: ", n + 1, len);
			put(pr, rest);
		}
		fputs("</span>", pr->out);
	} else {
		fprintf(pr->out, "%s\n    %-24s %s: \"%s\"", hex, "", part, words);
		if (rest[0] != '\0')
			fprintf(pr->out, "\n    %-24s words %zu-%zu, to compare the whole hash: \"%s\"",
				"", n + 1, len, rest);
	}
	field_end(pr);
}

static void field_long_hex(struct printer *pr, const char *label, const char *hex)
{
	size_t bytes = strlen(hex) / 2;
	uint8_t head[PRINTOUT_LONG_HEX_SHOWN];
	char grouped[5 * PRINTOUT_LONG_HEX_SHOWN / 2 + 1], text[160];

	if (hex_decode(hex, 2 * PRINTOUT_LONG_HEX_SHOWN, head, sizeof(head)) != 0) {
		field_text(pr, label, hex);
		return;
	}
	hex_encode_grouped(head, sizeof(head), grouped);
	if (text_format_cut(text, sizeof(text), "(%zu bytes) %s ...", bytes, grouped))
		mark_truncated(text, sizeof(text), 0);
	field_text(pr, label, text);
}

/* A field cut to fit the page says so, and how long it is in full: never silently short. */
static void mark_truncated(char *out, size_t size, size_t full)
{
	char mark[64];
	size_t m, at;

	m = full > 0 ? (size_t)snprintf(mark, sizeof(mark),
					" ... [truncated: %zu bytes in the transcript]", full)
		     : (size_t)snprintf(mark, sizeof(mark), " ... [truncated; see the transcript]");
	if (m >= size)
		return;
	at = size - 1 - m;
	while (at > 0 && ((unsigned char)out[at] & 0xc0) == 0x80)
		at--; /* never cut a UTF-8 character in two */
	memcpy(out + at, mark, m + 1);
}

static void scalar_text(json_t *v, const char *key, char *out, size_t size)
{
	int cut;

	if (json_is_string(v)) {
		if (text_format_cut(out, size, "%s", json_string_value(v)))
			mark_truncated(out, size, json_string_length(v));
		return;
	}
	if (json_is_integer(v))
		cut = text_format_cut(out, size, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		cut = text_format_cut(out, size, "%.3f", json_real_value(v));
	else if (json_is_boolean(v))
		/* PKCS#11 attributes read as the standard writes them. */
		cut = text_format_cut(out, size, "%s",
				      strncmp(key, "CKA_", 4) == 0
					      ? (json_is_true(v) ? "TRUE" : "FALSE")
					      : (json_is_true(v) ? "yes" : "no"));
	else
		cut = text_format_cut(out, size, "none");
	if (cut)
		mark_truncated(out, size, 0);
}

static void field_value(struct printer *pr, const char *label, json_t *v, int depth);
static int value_is_inline(json_t *v);

/* An array of short scalars (a command's arguments, a list of names). */
static int array_is_words(json_t *a)
{
	size_t i;
	json_t *e;

	json_array_foreach(a, i, e)
	if (!(json_is_string(e) || json_is_integer(e) || json_is_boolean(e)) ||
	    !value_is_inline(e))
		return 0;
	return 1;
}

/* One row, the elements separated by spaces; an element with a space is quoted. */
static void field_words(struct printer *pr, const char *label, json_t *a)
{
	char text[1024];
	size_t i;
	json_t *e;

	field_begin(pr, label);
	if (pr->html)
		fputs("<code>", pr->out);
	json_array_foreach(a, i, e)
	{
		scalar_text(e, label, text, sizeof(text));
		if (i > 0)
			fputc(' ', pr->out);
		if (strchr(text, ' ') != NULL || text[0] == '\0') {
			fputc('"', pr->out);
			put(pr, text);
			fputc('"', pr->out);
		} else
			put(pr, text);
	}
	if (pr->html)
		fputs("</code>", pr->out);
	field_end(pr);
}

/* Digests and long hex values get their own line; short scalars share one. */
static int value_is_inline(json_t *v)
{
	const char *s = json_string_value(v);
	size_t len = s != NULL ? strlen(s) : 0;

	if (json_is_object(v) || json_is_array(v))
		return 0;
	return s == NULL || !(len >= 40 && len % 2 == 0 && is_hex(s, len));
}

static void field_object(struct printer *pr, const char *label, json_t *o, int depth)
{
	char line[2048] = "", text[1024], sub[PRINTOUT_LABEL_MAX];
	const char *key;
	json_t *v;
	size_t used = 0;

	json_object_foreach(o, key, v)
	{
		if (!value_is_inline(v))
			continue;
		scalar_text(v, key, text, sizeof(text));
		if (used < sizeof(line))
			used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s %s",
						 used ? ", " : "", key, text);
	}
	if (used >= sizeof(line))
		mark_truncated(line, sizeof(line), 0);
	if (used > 0)
		field_text(pr, label, line);
	json_object_foreach(o, key, v)
	{
		if (value_is_inline(v))
			continue;
		if (text_format_cut(sub, sizeof(sub), "%s%s%s", label, label[0] ? " " : "", key))
			mark_truncated(sub, sizeof(sub), 0);
		field_value(pr, sub, v, depth + 1);
	}
}

static void field_value(struct printer *pr, const char *label, json_t *v, int depth)
{
	const char *s = json_string_value(v);
	char text[1024];
	size_t i;
	json_t *e;

	if (depth > PRINTOUT_DEPTH_MAX) {
		field_text(pr, label, "(nested too deep; see the transcript)");
		return;
	}
	if (json_is_object(v)) {
		field_object(pr, label, v, depth);
	} else if (json_is_array(v)) {
		if (json_array_size(v) == 0)
			field_text(pr, label, "none");
		else if (array_is_words(v))
			field_words(pr, label, v); /* a command line reads as one line */
		else
			json_array_foreach(v, i, e) field_value(pr, label, e, depth + 1);
	} else if (s != NULL && strlen(s) == 64 && is_hex(s, 64)) {
		uint8_t d[SHA256_LEN];
		if (hex_decode(s, 64, d, sizeof(d)) == 0)
			field_digest(pr, label, d, sizeof(d));
		else
			field_text(pr, label, s);
	} else if (s != NULL && strlen(s) > 2 * PRINTOUT_LONG_HEX_SHOWN && strlen(s) % 2 == 0 &&
		   is_hex(s, strlen(s))) {
		field_long_hex(pr, label, s);
	} else {
		scalar_text(v, label, text, sizeof(text));
		field_text(pr, label, text);
	}
}

static void file_list(struct printer *pr, const char *label, json_t *list)
{
	size_t i;
	json_t *e;

	json_array_foreach(list, i, e)
	{
		const char *p = json_string_value(json_object_get(e, "path"));
		const char *h = json_string_value(json_object_get(e, "sha256"));
		uint8_t d[SHA256_LEN];

		field_text(pr, label, p != NULL ? p : "(no path)");
		if (h != NULL && strlen(h) == 64 && hex_decode(h, 64, d, sizeof(d)) == 0)
			field_digest(pr, "  sha256", d, sizeof(d));
	}
}

/* Records a reader must not miss: deviations, failures, refusals, stops. */
static const char *record_alert(const char *action)
{
	static const char *const alerts[][2] = {
		{"step.exception", "EXCEPTION"},     {"step.failed", "FAILED"},
		{"ceremony.stopped", "STOPPED"},     {"ceremony.abandoned", "ABANDONED"},
		{"step.abandoned", "STEP ABANDONED"}, {"step.unrecognised", "ANSWER NOT UNDERSTOOD"},
	};
	size_t len = action != NULL ? strlen(action) : 0;

	for (size_t i = 0; action != NULL && i < sizeof(alerts) / sizeof(alerts[0]); i++)
		if (strcmp(action, alerts[i][0]) == 0)
			return alerts[i][1];
	if (len > 8 && strcmp(action + len - 8, ".refused") == 0)
		return "REFUSED";
	if (len > 7 && strcmp(action + len - 7, ".failed") == 0)
		return "FAILED";
	return NULL;
}

static int print_record(void *arg, long line, json_t *rec)
{
	struct printer *pr = arg;
	const char *action = json_string_value(json_object_get(rec, "action"));
	const char *when = json_string_value(json_object_get(rec, "time"));
	const char *alert = record_alert(action);
	char head[64];

	pr->records = line;
	if (text_format_cut(head, sizeof(head), "#%ld", line)) /* 21 bytes at most: never */
		mark_truncated(head, sizeof(head), 0);
	if (pr->html) {
		fprintf(pr->out, "<section class=\"record%s\"><h2>%s ", alert ? " alert" : "", head);
		if (alert != NULL)
			fprintf(pr->out, "<span class=\"alert\">%s</span> ", alert);
		put(pr, action);
		fputs(" <small>", pr->out);
		put(pr, when);
		fputs("</small></h2>\n<table>\n", pr->out);
	} else {
		fprintf(pr->out, "\n%-5s %s  ", head, when);
		if (alert != NULL)
			fprintf(pr->out, "!! %s: ", alert);
		put(pr, action);
		fputc('\n', pr->out);
	}
	if (line == 1)
		field_text(pr, "ceremony", json_string_value(json_object_get(rec, "ceremony")) != NULL
						   ? json_string_value(json_object_get(rec, "ceremony"))
						   : "?");
	file_list(pr, "input", json_object_get(rec, "inputs"));
	file_list(pr, "output", json_object_get(rec, "outputs"));
	field_object(pr, "", json_object_get(rec, "details"), 0);
	fputs(pr->html ? "</table></section>\n" : "", pr->out);
	return 0;
}

static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<title>Ceremony transcript</title>\n<style>\n"
	"body{font-family:serif;max-width:50em;margin:2em auto}\n"
	"table{border-collapse:collapse;width:100%}\n"
	"th{text-align:left;vertical-align:top;width:14em;font-weight:normal;color:#444}\n"
	"td,th{border-top:1px solid #ccc;padding:.2em .4em}\n"
	"code.hash{font-size:1.05em;letter-spacing:.05em}\n"
	".words{font-style:italic}\n"
	"section.record{page-break-inside:avoid;margin-top:1.2em}\n"
	"section.alert{border-left:.4em solid #b00;padding-left:.5em;background:#fff0f0}\n"
	"span.alert{color:#b00;font-weight:bold}\n"
	"h2{font-size:1.1em;margin:.2em 0}\n"
	"@media print{body{margin:0}}\n</style></head><body>\n";

/* The SHA-256 of the last line (the head), from bytes whose chain was verified. */
static void last_line_hash(const uint8_t *data, size_t len, uint8_t out[SHA256_LEN])
{
	size_t start = len - 1; /* the final newline */
	unsigned int mdlen = 0;

	while (start > 0 && data[start - 1] != '\n')
		start--;
	(void)EVP_Digest(data + start, len - 1 - start, out, &mdlen, EVP_sha256(), NULL);
}

static void print_header(struct printer *pr, const char *path, const uint8_t md[SHA256_LEN],
			 const uint8_t head[SHA256_LEN], int sealed)
{
	if (pr->html) {
		fputs(html_head, pr->out);
		fputs("<h1>Ceremony transcript ", pr->out);
		put(pr, path);
		fputs("</h1>\n<table>\n", pr->out);
	} else {
		fputs("Ceremony transcript ", pr->out);
		put(pr, path);
		fputc('\n', pr->out);
	}
	field_digest(pr, "file sha256", md, 32);
	field_digest(pr, "head (last line) sha256", head, 32);
	field_text(pr, "seal",
		   sealed ? "present (check it: ceremony transcript verify --root root.pem)"
			  : "none: NOT SEALED");
	if (pr->html)
		fputs("</table>\n", pr->out);
}

int printout_transcript(const char *path, enum printout_format format, FILE *out)
{
	struct printer pr = {out, format == PRINTOUT_HTML, 0};
	char seal[PATH_MAX];
	uint8_t *data = NULL, md[SHA256_LEN], head[SHA256_LEN];
	size_t len = 0;
	unsigned int mdlen = 0;
	int r;

	if (snprintf(seal, sizeof(seal), "%s.sig", path) >= (int)sizeof(seal))
		return cer_err(CER_E_INPUT, "%s: path too long", path);
	/* The chain first: a broken transcript is refused, not pretty-printed. */
	if ((r = transcript_each(path, NULL, NULL)) != 0)
		return r;
	if ((r = file_read_all(path, TRANSCRIPT_MAX_BYTES, &data, &len)) != 0)
		return r;
	if (len == 0 || !EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL)) {
		r = cer_err(CER_E_INPUT, "%s: cannot hash", path);
		goto out;
	}
	last_line_hash(data, len, head);
	print_header(&pr, path, md, head, file_exists(seal));
	if ((r = transcript_each(path, print_record, &pr)) != 0)
		goto out;
	if (pr.html)
		fprintf(out, "<p>%ld records. Printed by ceremony %s.</p>\n</body></html>\n",
			pr.records, CEREMONY_VERSION);
	else
		fprintf(out, "\n%ld records. Printed by ceremony %s.\n", pr.records,
			CEREMONY_VERSION);
	r = 0;
out:
	free(data);
	return r;
}

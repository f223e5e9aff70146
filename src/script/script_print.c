/* script: a script as a printable HTML checklist the participants initial. */
#include <string.h>

#include "ceremony/config.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/readaloud.h"
#include "ceremony/script.h"
#include "ceremony/sizes.h"

/* Text from a script or configuration, escaped for HTML. */
static void html(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static int print_command(const struct script *s, const struct config *cfg,
			 const struct script_step *st, FILE *f)
{
	const char *xn[] = {"transcript"}, *xv[] = {"TRANSCRIPT"};
	char buf[SCRIPT_ARG_MAX];
	int r;

	cer_err_clear();
	fputs("<div class=\"cmd\">$ ceremony", f);
	for (int i = 0; i < st->n_args; i++) {
		/* Without a configuration the ${names} stay, for a generic checklist. The
		 * checklist is public: a confidential option's value (k, n, the cards) is not
		 * printed, as in the transcript. */
		if (i > 0 && script_option_confidential(st->args[i - 1])) {
			fputs(" &lt;confidential&gt;", f);
			continue;
		}
		if (strchr(st->args[i], '=') != NULL && st->args[i][0] == '-') {
			char opt[64];
			size_t len = strcspn(st->args[i], "=");
			if (len < sizeof(opt)) {
				memcpy(opt, st->args[i], len);
				opt[len] = '\0';
				if (script_option_confidential(opt)) {
					fputc(' ', f);
					html(f, opt);
					fputs("=&lt;confidential&gt;", f);
					continue;
				}
			}
		}
		r = script_expand(s, cfg, xn, xv, 1, st->args[i], buf, sizeof(buf));
		fputc(' ', f);
		html(f, r == 0 ? buf : st->args[i]);
	}
	fputs("</div>\n", f);
	cer_err_clear();
	return 0;
}

static const char style[] =
	"body{font-family:serif;margin:2em;}h1{font-size:1.4em;}h2{font-size:1.15em;margin-top:1.5em;}"
	"table{border-collapse:collapse;width:100%;}td,th{border:1px solid #000;padding:4px;"
	"vertical-align:top;}.box{width:1.5em;text-align:center;font-size:1.3em;}"
	".init{width:7em;}.cmd{font-family:monospace;font-size:.85em;margin-top:4px;}"
	".q{font-style:italic;margin-top:4px;}tr{page-break-inside:avoid;}"
	"@media print{body{margin:1cm;}}";

/* Issue 16: the requests agreed before the day, to tick off against the screen. */
static int print_requests(const struct script *s, const struct config *cfg, FILE *f)
{
	char v[4][SCRIPT_ARG_MAX], grouped[100], words[600];
	uint8_t md[SHA256_LEN];
	int r;

	if (s->n_requests == 0)
		return 0;
	fputs("<h2>Requests pinned for this ceremony</h2>\n<p>Only these are signed: each "
	      "request's key (SPKI SHA-256) and subject must be exactly these.</p>\n<table><tr>"
	      "<th>Request</th><th>Profile</th><th>Subject</th><th>SPKI SHA-256 (read aloud)</th>"
	      "<th class=\"box\">✓</th></tr>\n",
	      f);
	for (int i = 0; i < s->n_requests; i++) {
		const struct script_request *q = &s->requests[i];
		const char *in[4] = {q->file, q->profile, q->spki_sha256, q->subject};
		for (int k = 0; k < 4; k++)
			if ((r = script_expand(s, cfg, NULL, NULL, 0, in[k], v[k], sizeof(v[k]))) != 0)
				return r;
		fputs("<tr><td>", f);
		html(f, v[0]);
		fputs("</td><td>", f);
		html(f, v[1]);
		fputs("</td><td>", f);
		html(f, v[3]);
		fputs("</td><td><code>", f);
		if (strlen(v[2]) == 64 && hex_decode(v[2], 64, md, SHA256_LEN) == 0 &&
		    readaloud_words(md, 32, 32, words, sizeof(words)) == 0) {
			hex_encode_grouped(md, SHA256_LEN, grouped);
			html(f, grouped);
			fputs("</code><br>", f);
			html(f, words);
		} else {
			html(f, v[2]);
			fputs(" (not a SHA-256)</code>", f);
		}
		fputs("</td><td class=\"box\">☐</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	return 0;
}

int script_print_html(const struct script *s, const struct config *cfg, FILE *f)
{
	char sha[100];
	int act = 0, r;

	hex_encode_grouped(s->sha256, SHA256_LEN, sha);
	fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
	html(f, s->title);
	fprintf(f, "</title><style>%s</style></head><body>\n<h1>", style);
	html(f, s->title);
	fprintf(f, "</h1>\n<p>Ceremony <b>");
	html(f, s->id);
	fprintf(f, "</b>. Script SHA-256 <code>%s</code>: compare it with the one the runner shows "
		   "at the start.</p>\n",
		sha);
	fprintf(f, "<h2>Participants</h2>\n<table><tr><th>Role</th><th>Title</th><th>Name</th>"
		   "<th class=\"init\">Initials</th></tr>\n");
	for (int i = 0; i < s->n_roles; i++) {
		fputs("<tr><td>", f);
		html(f, s->roles[i]);
		fputs("</td><td>", f);
		html(f, s->role_titles[i]);
		fputs("</td><td></td><td></td></tr>\n", f);
	}
	fputs("</table>\n", f);
	if ((r = print_requests(s, cfg, f)) != 0)
		return r;
	for (int i = 0; i < s->n_steps; i++) {
		const struct script_step *st = &s->steps[i];
		if (st->act != act) {
			if (act != 0)
				fputs("</table>\n", f);
			act = st->act;
			fprintf(f, "<h2>%s %d — ", st->after_seal ? "After the seal," : "Act", st->act);
			html(f, st->act_title);
			fputs("</h2>\n<table><tr><th>Step</th><th>Role</th><th>What is done</th>"
			      "<th class=\"box\">✓</th><th class=\"init\">Initials</th></tr>\n",
			      f);
		}
		fprintf(f, "<tr><td>%s</td><td>", st->id);
		html(f, st->role);
		fputs("</td><td>", f);
		{
			/* The say text as the ceremony shows it; without a configuration the
			 * ${names} stay, for a generic checklist. */
			const char *xn[] = {"transcript"}, *xv[] = {"TRANSCRIPT"};
			char say[SCRIPT_ARG_MAX];
			html(f, script_expand(s, cfg, xn, xv, 1, st->say, say, sizeof(say)) == 0 ? say
											  : st->say);
			cer_err_clear();
		}
		if (st->n_args > 0 && (r = print_command(s, cfg, st, f)) != 0)
			return r;
		if (st->confirm != NULL) {
			fputs("<div class=\"q\">", f);
			html(f, st->role);
			fputs(" confirms: ", f);
			html(f, st->confirm);
			fputs("? &nbsp; yes ☐ &nbsp; no ☐</div>", f);
		}
		fputs("</td><td class=\"box\">☐</td><td></td></tr>\n", f);
	}
	if (act != 0)
		fputs("</table>\n", f);
	fputs("<h2>Exceptions</h2>\n<table><tr><th>Step</th><th>Expected</th><th>What happened</th>"
	      "<th>Decision</th><th>Decided by</th></tr>\n",
	      f);
	for (int i = 0; i < 4; i++)
		fputs("<tr><td>&nbsp;</td><td></td><td></td><td></td><td></td></tr>\n", f);
	fputs("</table>\n<p>Signatures of all participants at the end of the ceremony:</p>\n"
	      "</body></html>\n",
	      f);
	return ferror(f) ? cer_err(CER_E_IO, "cannot write the checklist") : 0;
}

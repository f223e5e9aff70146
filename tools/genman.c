/*
 * genman — writes the OPTIONS section of every man page from the option tables.
 *
 *   genman DIR          rewrite DIR/ceremony.1 and DIR/ceremony-GROUP.1 in place
 *   genman --check DIR  exit 1, naming each page whose OPTIONS section differs
 *   genman --list       every command, a line each: "ceremony GROUP [VERB...]<TAB> --opt ..."
 *                       (every option it accepts; the first line is "ceremony" alone)
 *   genman --helps      each command's --help as its table prints it, after a line
 *                       "=== ceremony GROUP [VERB...]" (test_docs compares the binary's)
 *
 * The tables (struct cli_opt, src/cli) are the one description of every option:
 * the commands parse with them and print --help from them; this program gives the
 * man pages the same options, each with its .man paragraph, or its --help text made
 * a sentence where it has none. Everything else in a page (NAME, SYNOPSIS,
 * DESCRIPTION, EXAMPLES, ...) is written by hand and left as it is.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/commands.h"

/* Is s[i] the first hyphen of an option's name ("--token", "-v")? */
static int option_start(const char *s, size_t i)
{
	unsigned char prev = i > 0 ? (unsigned char)s[i - 1] : ' ';

	if (isalnum(prev) || prev == '\\' || prev == '-' || prev == '_')
		return 0;
	return s[i + 1] == '-' || isalpha((unsigned char)s[i + 1]);
}

/* Text as roff: the hyphens of option names as \- (so they render and search as "-"). */
static void put_roff(const char *s, FILE *f)
{
	for (size_t i = 0; s[i] != '\0'; i++) {
		if (s[i] == '-' && option_start(s, i)) {
			while (s[i] == '-' || isalnum((unsigned char)s[i])) {
				if (s[i] == '-')
					fputc('\\', f);
				fputc(s[i], f);
				i++;
			}
			i--;
			continue;
		}
		fputc(s[i], f);
	}
}

/* A --help text as a man paragraph: one sentence, filled at ~76 columns. */
static void put_help_sentence(const char *help, FILE *f)
{
	char buf[1024];
	size_t n = 0, col = 0;
	int first = 1;

	for (const char *h = help; *h != '\0' && n + 8 < sizeof(buf); h++) {
		if (*h == '\n') {
			while (h[1] == ' ')
				h++;
			buf[n++] = ' ';
		} else if (*h == '\\') {
			buf[n++] = '\\';
			buf[n++] = 'e';
		} else {
			buf[n++] = *h;
		}
	}
	buf[n] = '\0';
	/* Capitalise a first word of plain lowercase letters ("token", not "file:PATH"). */
	size_t w = strcspn(buf, " ");
	int plain = 1;
	for (size_t i = 0; i < w; i++)
		plain &= islower((unsigned char)buf[i]) || buf[i] == '\'' || buf[i] == ',';
	if (plain)
		buf[0] = (char)toupper((unsigned char)buf[0]);
	if (n > 0 && buf[n - 1] != '.') {
		buf[n++] = '.';
		buf[n] = '\0';
	}
	for (char *save = NULL, *word = strtok_r(buf, " ", &save); word != NULL;
	     word = strtok_r(NULL, " ", &save)) {
		size_t len = strlen(word);
		if (!first && col + 1 + len > 76) {
			fputc('\n', f);
			col = 0;
		} else if (!first) {
			fputc(' ', f);
			col++;
		}
		if (col == 0 && (word[0] == '.' || word[0] == '\''))
			fputs("\\&", f);
		put_roff(word, f);
		col += len;
		first = 0;
	}
	fputc('\n', f);
}

static void put_tag(const struct cli_opt *o, FILE *f)
{
	fputs(".TP\n", f);
	if (o->short_name != 0)
		fprintf(f, ".BR \\-%c \", \" ", o->short_name);
	else if (o->arg != NULL)
		fputs(".BI ", f);
	else
		fputs(".B ", f);
	fputs("\\-\\-", f);
	for (const char *c = o->name; *c != '\0'; c++)
		fputs(*c == '-' ? "\\-" : (char[2]){*c, '\0'}, f);
	/* inside .BI's quotes no escaping is needed but for a hyphen */
	if (o->arg != NULL && o->short_name == 0) {
		fputs(" \" ", f);
		put_roff(o->arg, f);
		fputc('"', f);
	}
	fputc('\n', f);
}

static void put_text(const char *man, FILE *f)
{
	put_roff(man, f);
	if (man[0] != '\0' && man[strlen(man) - 1] != '\n')
		fputc('\n', f);
}

/* A table's rows: each option's tag and paragraph. */
static void put_rows(const struct cli_opt *table, FILE *f)
{
	for (const struct cli_opt *o = table; !CLI_OPT_IS_END(o); o++) {
		if (o->name == NULL) {
			if (o->man != NULL)
				put_text(o->man, f);
			else if (o->include != NULL)
				put_rows(o->include, f);
			continue;
		}
		put_tag(o, f);
		if (o->man != NULL)
			put_text(o->man, f);
		else
			put_help_sentence(o->help, f);
	}
}

static int has_rows(const struct cli_spec *spec)
{
	return spec != NULL && spec->opts != NULL && !CLI_OPT_IS_END(&spec->opts[0]);
}

/* ".SS group verb" sections: a verb's, then its own verbs' (backup kit verify). */
static void put_verbs(const char *prefix, const struct cli_command *verbs, FILE *f)
{
	for (const struct cli_command *v = verbs; v->name != NULL; v++) {
		char name[128];

		if (snprintf(name, sizeof(name), "%s %s", prefix, v->name) >= (int)sizeof(name))
			continue;
		if (has_rows(v->spec)) {
			fputs(".SS ", f);
			put_roff(name, f);
			/* verbs that share one table share one section */
			while (v[1].name != NULL && v[1].spec == v->spec) {
				v++;
				fputs(", ", f);
				fprintf(f, "%s ", prefix);
				put_roff(v->name, f);
			}
			fputc('\n', f);
			put_rows(v->spec->opts, f);
		}
		if (v->verbs != NULL)
			put_verbs(name, v->verbs, f);
	}
}

/* The OPTIONS section of ceremony-GROUP.1 (group NULL: ceremony.1), from ".SH OPTIONS". */
static char *options_section(const struct cli_command *group, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (f == NULL)
		return NULL;
	fputs(".SH OPTIONS\n", f);
	if (group == NULL) {
		put_rows(cli_main_spec.opts, f);
		put_rows(cli_common_opts, f);
	} else {
		if (has_rows(group->spec))
			put_rows(group->spec->opts, f);
		else if (group->spec != NULL)
			fprintf(f, ".B %s\nhas no options of its own.\n", group->name);
		if (group->verbs != NULL) {
			char prefix[64];
			if (snprintf(prefix, sizeof(prefix), "%s", group->name) < (int)sizeof(prefix))
				put_verbs(prefix, group->verbs, f);
		}
		fputs(".SS Common options\n"
		      "These may be given before or after the command; see\n"
		      ".BR ceremony (1).\n",
		      f);
		put_rows(cli_common_opts, f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = n + 65536);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* 0 same or rewritten, 1 differs (--check), 2 an error. */
static int do_page(const char *dir, const struct cli_command *group, int check)
{
	char path[4096];
	size_t len, slen;
	char *page = NULL, *section = NULL;
	int r = 2;

	if (snprintf(path, sizeof(path), "%s/ceremony%s%s.1", dir, group != NULL ? "-" : "",
		     group != NULL ? group->name : "") >= (int)sizeof(path))
		return 2;
	if ((page = read_all(path, &len)) == NULL) {
		fprintf(stderr, "genman: %s: %s\n", path, strerror(errno));
		goto out;
	}
	char *start = strstr(page, "\n.SH OPTIONS\n"), *end;
	if (start == NULL || (end = strstr(start + 1, "\n.SH ")) == NULL) {
		fprintf(stderr, "genman: %s: no .SH OPTIONS section followed by another .SH\n",
			path);
		goto out;
	}
	start++;
	end++;
	if ((section = options_section(group, &slen)) == NULL) {
		fprintf(stderr, "genman: out of memory\n");
		goto out;
	}
	if ((size_t)(end - start) == slen && memcmp(start, section, slen) == 0) {
		r = 0;
		goto out;
	}
	if (check) {
		fprintf(stderr, "genman: %s: its OPTIONS section is not what the option tables "
				"say (run \"make man\")\n", path);
		r = 1;
		goto out;
	}
	char tmp[4200];
	if (snprintf(tmp, sizeof(tmp), "%s.genman-tmp", path) >= (int)sizeof(tmp))
		goto out;
	FILE *f = fopen(tmp, "wb");
	if (f == NULL) {
		fprintf(stderr, "genman: %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	fwrite(page, 1, (size_t)(start - page), f);
	fwrite(section, 1, slen, f);
	fwrite(end, 1, len - (size_t)(end - page), f);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "genman: %s: %s\n", path, strerror(errno));
		remove(tmp);
		goto out;
	}
	printf("genman: wrote %s\n", path);
	r = 0;
out:
	free(section);
	free(page);
	return r;
}

static void list_options(const struct cli_opt *table, FILE *f)
{
	for (const struct cli_opt *o = table; !CLI_OPT_IS_END(o); o++) {
		if (o->include != NULL)
			list_options(o->include, f);
		if (o->name != NULL)
			fprintf(f, " --%s", o->name);
	}
}

static int helps;

static void list_command(const char *name, const struct cli_spec *spec, FILE *f)
{
	if (helps) {
		if (spec != &cli_main_spec) {
			fprintf(f, "=== %s\n", name);
			cli_help(spec, f);
		}
		return;
	}
	fprintf(f, "%s\t", name);
	if (spec != NULL && spec->opts != NULL)
		list_options(spec->opts, f);
	list_options(cli_common_opts, f);
	fputc('\n', f);
}

static void list_verbs(const char *prefix, const struct cli_command *verbs, FILE *f)
{
	for (const struct cli_command *v = verbs; v->name != NULL; v++) {
		char name[128];

		if (snprintf(name, sizeof(name), "%s %s", prefix, v->name) >= (int)sizeof(name))
			continue;
		if (v->spec != NULL)
			list_command(name, v->spec, f);
		if (v->verbs != NULL)
			list_verbs(name, v->verbs, f);
	}
}

int main(int argc, char **argv)
{
	helps = argc == 2 && strcmp(argv[1], "--helps") == 0;
	if (argc == 2 && (strcmp(argv[1], "--list") == 0 || helps)) {
		list_command("ceremony", &cli_main_spec, stdout);
		list_verbs("ceremony", cli_groups, stdout);
		return fflush(stdout) == 0 ? 0 : 2;
	}

	int check = argc == 3 && strcmp(argv[1], "--check") == 0, worst = 0;

	if (argc != 2 + check) {
		fprintf(stderr, "usage: genman [--check] DIR | genman --list | genman --helps\n");
		return 2;
	}
	const char *dir = argv[1 + check];
	int r = do_page(dir, NULL, check);
	worst = r > worst ? r : worst;
	for (const struct cli_command *g = cli_groups; g->name != NULL; g++) {
		if (g->spec == NULL && g->verbs == NULL)
			continue; /* not described by a table yet */
		r = do_page(dir, g, check);
		worst = r > worst ? r : worst;
	}
	return worst;
}

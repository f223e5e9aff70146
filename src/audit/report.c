#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/x509v3.h>

#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/pem.h"
#include "ceremony/printout.h"
#include "ceremony/report.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"

#define REPORT_MAX_TRANSCRIPTS 4096
#define REPORT_MAX_CAS 256
#define REPORT_MAX_TOKENS 64

struct report_ca {
	char subject[256], serial[41], issued[TIME_TEXT_SIZE], not_after[TIME_TEXT_SIZE],
		revoked[TIME_TEXT_SIZE];
	long pathlen; /* -1: none or unknown */
	int pathlen_known;
};

/*
 * Only public facts are copied out of the records. The backup records' k, n and
 * holders live in the internal record, not the transcript; witness names are
 * never read here.
 */
struct report {
	const char *path; /* transcript being read */
	long transcripts;
	struct report_ca cas[REPORT_MAX_CAS];
	size_t n_cas;
	long end_entities; /* signed by the root directly */
	char root_token_serial[TOKEN_SERIAL_LEN + 1], root_key[LABEL_SIZE];
	char hsm_model[17], hsm_manufacturer[33], key_type[16];
	int local, sensitive, extractable, wrap_with_trusted, root_found;
	long spare_shares; /* -1: none recorded */
	char backup_time[TIME_TEXT_SIZE];
	long backups, drills, recoveries;
	long roots, cross; /* cert.root and cert.cross records: more than one root is a rollover */
	char root_subjects[8][256]; /* the first eight */
	char drill_tokens[REPORT_MAX_TOKENS][TOKEN_SERIAL_LEN + 1];
	size_t n_drill_tokens;
	/* The first public record that discloses k or n (issue 11.5): the report then
	 * says so instead of claiming they are not disclosed. */
	char disclosed_where[PATH_MAX + 32];
	char disclosed_what[128];
};

static int flag(json_t *evidence, const char *name)
{
	json_t *v = json_object_get(evidence, name);
	return json_is_boolean(v) ? json_is_true(v) : -1;
}

static int report_key(struct report *rp, json_t *d)
{
	json_t *tok = json_object_get(d, "token"), *key = json_object_get(d, "key");
	json_t *ev = json_object_get(d, "evidence");
	const char *serial = json_string_value(json_object_get(tok, "serial"));
	const char *label = json_string_value(json_object_get(key, "label"));
	int r;

	/* The root's key: the one cert.root names, else the first one generated. */
	if (rp->root_found && !(serial != NULL && label != NULL &&
				strcmp(serial, rp->root_token_serial) == 0 &&
				strcmp(label, rp->root_key) == 0))
		return 0;
	if ((r = text_copy(rp->hsm_model, sizeof(rp->hsm_model), "HSM model",
			   json_string_value(json_object_get(tok, "model")))) != 0 ||
	    (r = text_copy(rp->hsm_manufacturer, sizeof(rp->hsm_manufacturer), "HSM manufacturer",
			   json_string_value(json_object_get(tok, "manufacturer")))) != 0 ||
	    (r = text_copy(rp->key_type, sizeof(rp->key_type), "key type",
			   json_string_value(json_object_get(key, "type")))) != 0)
		return r;
	rp->local = flag(ev, "CKA_LOCAL");
	rp->sensitive = flag(ev, "CKA_SENSITIVE");
	rp->extractable = flag(ev, "CKA_EXTRACTABLE");
	rp->wrap_with_trusted = flag(ev, "CKA_WRAP_WITH_TRUSTED");
	rp->root_found = 1;
	if ((r = text_copy(rp->root_token_serial, sizeof(rp->root_token_serial), "token serial",
			   serial)) != 0)
		return r;
	return text_copy(rp->root_key, sizeof(rp->root_key), "root key label", label);
}

static void report_ca_pathlen(struct report *rp, struct report_ca *ca, json_t *rec)
{
	const char *p = json_string_value(
		json_object_get(json_array_get(json_object_get(rec, "outputs"), 0), "path"));
	char full[PATH_MAX];
	X509 *x = NULL;

	ca->pathlen = -1;
	if (p == NULL || transcript_record_path(rp->path, p, full, sizeof(full)) != 0 ||
	    pem_load_cert(full, &x) != 0) {
		cer_err_clear();
		return;
	}
	ca->pathlen = X509_get_pathlen(x);
	ca->pathlen_known = 1;
	X509_free(x);
}

static int report_issue(struct report *rp, json_t *rec)
{
	json_t *d = json_object_get(rec, "details"), *c = json_object_get(d, "certificate");
	const char *kind = json_string_value(json_object_get(d, "profile_kind"));
	struct report_ca *ca;
	int r;

	if (kind == NULL || strcmp(kind, "ca") != 0) {
		rp->end_entities++;
		return 0;
	}
	if (rp->n_cas == REPORT_MAX_CAS)
		return 0;
	ca = &rp->cas[rp->n_cas++];
	memset(ca, 0, sizeof(*ca));
	if ((r = text_copy(ca->subject, sizeof(ca->subject), "certificate subject",
			   json_string_value(json_object_get(c, "subject")))) != 0 ||
	    (r = text_copy(ca->serial, sizeof(ca->serial), "certificate serial",
			   json_string_value(json_object_get(c, "serial")))) != 0 ||
	    (r = text_copy(ca->issued, sizeof(ca->issued), "record time",
			   json_string_value(json_object_get(rec, "time")))) != 0 ||
	    (r = text_copy(ca->not_after, sizeof(ca->not_after), "certificate not_after",
			   json_string_value(json_object_get(c, "not_after")))) != 0)
		return r;
	report_ca_pathlen(rp, ca, rec);
	return 0;
}

static int report_crl(struct report *rp, json_t *rec)
{
	json_t *e;
	size_t i;
	int r;

	json_array_foreach(json_object_get(json_object_get(rec, "details"), "revoked"), i, e)
	{
		const char *serial = json_string_value(json_object_get(e, "serial"));
		for (size_t j = 0; serial != NULL && j < rp->n_cas; j++)
			if (strcasecmp(rp->cas[j].serial, serial) == 0 &&
			    rp->cas[j].revoked[0] == '\0' &&
			    (r = text_copy(rp->cas[j].revoked, sizeof(rp->cas[j].revoked),
					   "record time",
					   json_string_value(json_object_get(rec, "time")))) != 0)
				return r;
	}
	return 0;
}

static int report_backup(struct report *rp, json_t *rec, const char *action)
{
	json_t *d = json_object_get(rec, "details");
	const char *when = json_string_value(json_object_get(rec, "time"));
	json_t *spare = json_object_get(json_object_get(d, "confidential"), "spare_shares");

	if (strcmp(action, "backup.create") == 0 || strcmp(action, "backup.rekey") == 0) {
		rp->backups++;
		/* The latest backup is the one that counts. */
		if (when != NULL && strcmp(when, rp->backup_time) >= 0) {
			int r = text_copy(rp->backup_time, sizeof(rp->backup_time), "record time",
					  when);
			if (r != 0)
				return r;
			rp->spare_shares = json_is_integer(spare) ? (long)json_integer_value(spare) : -2;
		}
	} else if (strcmp(action, "backup.drill") == 0 || strcmp(action, "backup.recover") == 0) {
		const char *serial =
			json_string_value(json_object_get(json_object_get(d, "token"), "serial"));
		size_t i;
		if (strcmp(action, "backup.drill") == 0)
			rp->drills++;
		else
			rp->recoveries++;
		for (i = 0; serial != NULL && i < rp->n_drill_tokens; i++)
			if (strcmp(rp->drill_tokens[i], serial) == 0)
				break;
		if (serial != NULL && i == rp->n_drill_tokens && i < REPORT_MAX_TOKENS)
			return text_copy(rp->drill_tokens[rp->n_drill_tokens++],
					 sizeof(rp->drill_tokens[0]), "token serial", serial);
	}
	return 0;
}

static const char *const confidential_options[] = {"--threshold", "--shares", "--group",
						   "--group-threshold", "--cards", "--holders"};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}

static int disclosed(struct report *rp, long line, const char *what)
{
	int r;

	if (rp->disclosed_where[0] != '\0')
		return 0; /* the first one is named */
	if ((r = text_format(rp->disclosed_where, sizeof(rp->disclosed_where), "disclosure place",
			     "%s line %ld", base_name(rp->path), line)) != 0)
		return r;
	return text_copy(rp->disclosed_what, sizeof(rp->disclosed_what), "disclosure", what);
}

/* "3 of 5", "3-of-5": a text that states a threshold and a count. */
static int states_k_of_n(const char *t)
{
	for (const char *p = t; t != NULL && *p != '\0'; p++) {
		const char *q = p;
		if (*p < '0' || *p > '9' || (p > t && p[-1] >= '0' && p[-1] <= '9'))
			continue;
		while (*q >= '0' && *q <= '9')
			q++;
		if ((strncmp(q, " of ", 4) == 0 || strncmp(q, "-of-", 4) == 0) && q[4] >= '0' &&
		    q[4] <= '9')
			return 1;
	}
	return 0;
}

/* A confidential option's value, or a count of per-card sources, in a recorded command. */
static int command_discloses(struct report *rp, long line, json_t *cmd)
{
	size_t i;
	json_t *a;
	int r = 0;

	json_array_foreach(cmd, i, a)
	{
		const char *s = json_string_value(a), *next;
		if (s == NULL)
			continue;
		if (s[0] == '<' && s[1] >= '0' && s[1] <= '9' && strstr(s, " sources>") != NULL &&
		    (r = disclosed(rp, line,
				   "a count of per-card secret sources (the number of cards)")) !=
			0)
			return r;
		for (size_t k = 0; k < sizeof(confidential_options) / sizeof(*confidential_options);
		     k++) {
			size_t len = strlen(confidential_options[k]);
			if (strncmp(s, confidential_options[k], len) != 0)
				continue;
			if (s[len] == '=' && strcmp(s + len + 1, "<confidential>") != 0 &&
			    (r = disclosed(rp, line, confidential_options[k])) != 0)
				return r;
			next = json_string_value(json_array_get(cmd, i + 1));
			if (s[len] == '\0' && next != NULL && strcmp(next, "<confidential>") != 0 &&
			    (r = disclosed(rp, line, confidential_options[k])) != 0)
				return r;
		}
	}
	return 0;
}

static int report_disclosure(struct report *rp, long line, const char *action, json_t *d)
{
	json_t *c = json_object_get(d, "confidential");
	const char *k;
	json_t *v;
	int r = 0;

	if (strcmp(action, "step.begin") == 0) {
		if ((r = command_discloses(rp, line, json_object_get(d, "command"))) != 0)
			return r;
		if (states_k_of_n(json_string_value(json_object_get(d, "say"))))
			r = disclosed(rp, line, "the text read aloud states k of n");
	} else if (strcmp(action, "step.confirm") == 0 &&
		   states_k_of_n(json_string_value(json_object_get(d, "question"))))
		r = disclosed(rp, line, "a confirmation question states k of n");
	if (r != 0 || strncmp(action, "backup.", 7) != 0)
		return r;
	json_object_foreach(d, k, v)
	{
		if ((!strcmp(k, "threshold") || !strcmp(k, "shares") || !strcmp(k, "k") ||
		     !strcmp(k, "n") || !strcmp(k, "holders") || !strcmp(k, "cards")) &&
		    (r = disclosed(rp, line, k)) != 0)
			return r;
	}
	json_object_foreach(c, k, v)
	{
		if (strcmp(k, "spare_shares") && strcmp(k, "parameters_commitment") &&
		    strcmp(k, "cards_commitment") && strcmp(k, "commitment_scheme") &&
		    (r = disclosed(rp, line, k)) != 0)
			return r;
	}
	return 0;
}

static int report_cb(void *arg, long line, json_t *rec)
{
	struct report *rp = arg;
	const char *action = json_string_value(json_object_get(rec, "action"));
	json_t *d = json_object_get(rec, "details");
	int r;

	if ((r = report_disclosure(rp, line, action, d)) != 0)
		goto out;
	if (strcmp(action, "cert.root") == 0) {
		if (rp->roots < 8 &&
		    (r = text_copy(rp->root_subjects[rp->roots], sizeof(rp->root_subjects[0]),
				   "root subject",
				   json_string_value(json_object_get(
					   json_object_get(d, "certificate"), "subject")))) != 0)
			goto out;
		rp->roots++;
	} else if (strcmp(action, "cert.cross") == 0)
		rp->cross++;
	if (strcmp(action, "cert.root") == 0 && !rp->root_found) {
		if ((r = text_copy(rp->root_token_serial, sizeof(rp->root_token_serial),
				   "token serial",
				   json_string_value(json_object_get(d, "token_serial")))) == 0)
			r = text_copy(rp->root_key, sizeof(rp->root_key), "root key label",
				      json_string_value(json_object_get(d, "key")));
	} else if (strcmp(action, "key.generate") == 0)
		r = report_key(rp, d);
	else if (strcmp(action, "cert.issue") == 0)
		r = report_issue(rp, rec);
	else if (strcmp(action, "crl.sign") == 0)
		r = report_crl(rp, rec);
	else if (strncmp(action, "backup.", 7) == 0)
		r = report_backup(rp, rec, action);
out:
	if (r != 0)
		cer_err_prefix("%s line %ld: ", base_name(rp->path), line);
	return r;
}

static int report_pass(struct report *rp, const char *dir, char **names, size_t n)
{
	char path[PATH_MAX];
	int r;

	for (size_t i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path))
			return cer_err(CER_E_INPUT, "%s: path too long", dir);
		rp->path = path;
		if ((r = transcript_each(path, report_cb, rp)) != 0)
			return r;
	}
	return 0;
}

static long days_between(const char *from, const char *to)
{
	struct tm a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (strptime(from, "%Y-%m-%dT%H:%M:%SZ", &a) == NULL ||
	    strptime(to, "%Y-%m-%dT%H:%M:%SZ", &b) == NULL)
		return -1;
	return (long)((timegm(&b) - timegm(&a)) / 86400);
}

static void print_level(const struct report *rp, FILE *out)
{
	int any_pathlen = 0;

	fputs("1. pkilevel (level of the end-entity certificates, §5.1):\n", out);
	for (size_t i = 0; i < rp->n_cas; i++)
		any_pathlen |= !rp->cas[i].pathlen_known || rp->cas[i].pathlen != 0;
	if (rp->n_cas > 0)
		fprintf(out, "   %s3: the root signed %zu subordinate CA%s%s, which sign the devices\n",
			any_pathlen ? "at least " : "", rp->n_cas, rp->n_cas == 1 ? "" : "s",
			any_pathlen ? "" : " (pathLenConstraint 0)");
	if (rp->end_entities > 0)
		fprintf(out, "   2: for %ld end-entity certificate%s the root signed directly (e.g. "
			     "voucher signers)\n",
			rp->end_entities, rp->end_entities == 1 ? "" : "s");
	if (rp->n_cas == 0 && rp->end_entities == 0)
		fputs("   1: the root has signed no certificate yet\n", out);
}

static void print_cas(const struct report *rp, FILE *out, const char *now)
{
	fputs("2. How long each subordinate CA is maintained:\n", out);
	if (rp->n_cas == 0)
		fputs("   no subordinate CA recorded\n", out);
	for (size_t i = 0; i < rp->n_cas; i++) {
		const struct report_ca *ca = &rp->cas[i];
		const char *end = ca->revoked[0] ? ca->revoked : now;
		fputs("   ", out);
		printout_safe(out, ca->subject);
		fprintf(out, "\n     issued %.10s, notAfter %.10s%s; %s %ld days%s\n", ca->issued,
			ca->not_after,
			strncmp(ca->not_after, "9999-12-31", 10) == 0 ? " (no expiry, RFC 5280 4.1.2.5)"
								       : "",
			ca->revoked[0] ? "revoked after" : "in service for",
			days_between(ca->issued, end), ca->revoked[0] ? "" : " so far");
	}
	fputs("3. How many identities each subordinate CA signed before retirement:\n"
	      "   not known from the root's transcripts: they record only what the root signed;\n"
	      "   the subordinate CAs' own records hold their counts\n",
	      out);
}

static void print_storage(const struct report *rp, FILE *out)
{
	fputs("4. How the root CA key is stored:\n", out);
	if (!rp->root_found) {
		fputs("   no key generation recorded\n", out);
		return;
	}
	if (rp->roots > 1) {
		fprintf(out, "   the history holds %ld root certificates, linked by %ld cross "
			     "certificate%s (root rollover):\n",
			rp->roots, rp->cross, rp->cross == 1 ? "" : "s");
		for (long i = 0; i < rp->roots && i < 8; i++) {
			fputs("     ", out);
			printout_safe(out, rp->root_subjects[i]);
			fputs("\n", out);
		}
	}
	fputs("   in a PKCS#11 hardware security module: manufacturer \"", out);
	printout_safe(out, rp->hsm_manufacturer);
	fputs("\", model \"", out);
	printout_safe(out, rp->hsm_model);
	fputs("\"\n   ", out);
	printout_safe(out, rp->key_type);
	fprintf(out, " key %s, sensitive %s, ", rp->local == 1 ? "generated inside it" : "(origin not recorded)",
		rp->sensitive == 1 ? "yes" : "no");
	if (rp->extractable == 1 && rp->wrap_with_trusted == 1)
		fputs("leaves it only wrapped under a trusted key (for its backup)\n", out);
	else if (rp->extractable == 0)
		fputs("never leaves it\n", out);
	else
		fputs("extractability not recorded\n", out);
}

static void print_backup(const struct report *rp, FILE *out)
{
	fputs("5. Spare shares n - k (§5.3.1):\n", out);
	if (rp->backups == 0)
		fputs("   no backup recorded\n", out);
	else if (rp->spare_shares < 0)
		fprintf(out, "   a backup of %.10s is recorded without its spare-share count\n",
			rp->backup_time);
	else if (rp->disclosed_where[0] != '\0') {
		/* Never claim what the transcripts contradict, nor add the figure that
		 * would complete k and n. */
		fputs("   not given: ", out);
		printout_safe(out, rp->disclosed_where);
		fputs(" discloses ", out);
		printout_safe(out, rp->disclosed_what);
		fputs(";\n   with n - k that would reveal k and n (docs/backup.md, confidential "
		      "parameters)\n",
		      out);
	} else
		fprintf(out, "   %ld (the backup of %.10s; k and n are in no public record these "
			     "transcripts hold)\n",
			rp->spare_shares, rp->backup_time);
	fputs("6. Continents on which the key can be recovered without travel:\n"
	      "   not recorded in the transcripts",
	      out);
	if (rp->drills + rp->recoveries > 0)
		fprintf(out, "; recorded: %ld drill%s and %ld recover%s at %zu backup token%s",
			rp->drills, rp->drills == 1 ? "" : "s", rp->recoveries,
			rp->recoveries == 1 ? "y" : "ies", rp->n_drill_tokens,
			rp->n_drill_tokens == 1 ? "" : "s");
	fputc('\n', out);
}

int report_print(const char *dir, FILE *out)
{
	struct report *rp = calloc(1, sizeof(*rp));
	char **names = NULL, now[TIME_TEXT_SIZE];
	size_t n = 0;
	time_t t = time(NULL);
	struct tm tm;
	int r = 0;

	if (rp == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	rp->spare_shares = -1;
	r = file_list_dir(dir, ".jsonl", REPORT_MAX_TRANSCRIPTS, &names, &n);
	if (r == 0 && n == 0)
		r = cer_err(CER_E_NOTFOUND, "%s: no transcripts (*.jsonl)", dir);
	if (r == 0)
		r = report_pass(rp, dir, names, n);
	if (r == 0) {
		gmtime_r(&t, &tm);
		(void)strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(out, "Disclosure report (manufacturer keys taxonomy draft, §6.2) from %zu "
			     "transcript%s in %s\n",
			n, n == 1 ? "" : "s", dir);
		fputs("Facts as the transcripts record them; \"ceremony audit\" verifies them.\n",
		      out);
		print_level(rp, out);
		print_cas(rp, out, now);
		print_storage(rp, out);
		print_backup(rp, out);
	}
	file_names_free(names);
	free(rp);
	return r;
}

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "audit_int.h"
#include "ceremony/audit.h"
#include "ceremony/countersig.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/history.h"
#include "ceremony/pem.h"
#include "ceremony/printout.h"
#include "ceremony/quorum.h"
#include "ceremony/readaloud.h"
#include "ceremony/replay.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"

/* One transcript in the folder, as its first record places it. */
struct ceremony_file {
	char name[NAME_MAX + 1];
	char path[PATH_MAX];
	uint8_t sha256[SHA256_LEN];
	int sealed;
	uint8_t seal_sha256[SHA256_LEN];
	int first; /* previous is null */
	char prev_name[NAME_MAX + 1];
	uint8_t prev_sha256[SHA256_LEN], prev_seal[SHA256_LEN], prev_head[SHA256_LEN];
	char id[128];
	char first_time[TIME_TEXT_SIZE], last_time[TIME_TEXT_SIZE];
	char root_path[PATH_MAX]; /* the cert.root output, if any */
	long records;
	long before, after; /* neighbours in the chain, -1 if none */
	/* How the ceremony went (issue 11.4): listed per ceremony, never judged. */
	int abandoned;             /* a ceremony.abandoned record: out of the chain */
	char abandon_reason[256];
	char mode[16];             /* "answers" or "interactive", from ceremony.start */
	long exceptions, stops, resumes, unrecognised, overrides, test_cost;
	char decisions[160];       /* "1.2 continue, 3.1 retry" */
	char override_by[64];
	long annexes;              /* annex.commit: a confidential annex, committed by hash */
	long consequential;        /* records other than the runner's own */
	const struct archive_view *view; /* the audit's */
	char first_consequential[48];
	struct transcript_read read; /* its bytes and records, read once by the scan (issue 13) */
};

#define AUDIT_THREADS 2

struct audit {
	const struct audit_opts *o;
	FILE *out;
	struct ceremony_file *files;
	size_t n;
	X509 *root;             /* the root in force */
	STACK_OF(X509) *also;   /* earlier roots a rollover let go on issuing */
	int n_roots;
	struct countersig_registry *reg;
	struct audit_history hist;
	size_t n_abandoned;
	long annexes; /* confidential annexes committed to: not opened by this audit */
	/* What could not be checked: the verdict names it, and without --partial it fails. */
	long not_replayed, files_missing, files_outside, unproven_abandoned;
	const char *in_progress; /* the latest ceremony's file, when it is not sealed yet */
	struct quorum_state quorum;
};

static int hex32(json_t *o, const char *key, uint8_t out[SHA256_LEN])
{
	const char *s = json_string_value(json_object_get(o, key));
	return s != NULL && strlen(s) == 64 && hex_decode(s, 64, out, SHA256_LEN) == 0 ? 0 : -1;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}

/* ceremony.begin on line 1 places the transcript after its previous ceremony. */
static int scan_begin(struct ceremony_file *f, json_t *rec)
{
	const char *action = json_string_value(json_object_get(rec, "action"));
	json_t *prev = json_object_get(json_object_get(rec, "details"), "previous");
	const char *p;
	int r;

	if (strcmp(action, "ceremony.begin") != 0)
		return cer_err(CER_E_VERIFY,
			       "%s line 1: is %s, not ceremony.begin: the transcript cannot be "
			       "placed in the CA's chain",
			       f->path, action);
	if ((r = text_copy(f->id, sizeof(f->id), "ceremony id",
			   json_string_value(json_object_get(rec, "ceremony")) != NULL
				   ? json_string_value(json_object_get(rec, "ceremony"))
				   : "?")) != 0) {
		cer_err_prefix("%s line 1: ", f->path);
		return r;
	}
	if (json_is_null(prev)) {
		f->first = 1;
		return 0;
	}
	p = json_string_value(json_object_get(prev, "path"));
	if (!json_is_object(prev) || p == NULL || hex32(prev, "sha256", f->prev_sha256) != 0 ||
	    hex32(prev, "seal_sha256", f->prev_seal) != 0 ||
	    hex32(prev, "head", f->prev_head) != 0)
		return cer_err(CER_E_VERIFY, "%s line 1: the previous ceremony is not named fully",
			       f->path);
	if ((r = text_copy(f->prev_name, sizeof(f->prev_name), "previous transcript name",
			   base_name(p))) != 0)
		cer_err_prefix("%s line 1: ", f->path);
	return r;
}

/* A test-cost setting anywhere in a record's details ("test_cost": true). */
static int has_test_cost(json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_object(v)) {
		if (json_is_true(json_object_get(v, "test_cost")))
			return 1;
		json_object_foreach(v, k, x)
		if (has_test_cost(x))
			return 1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
		if (has_test_cost(x))
			return 1;
	}
	return 0;
}

/* "1.2 continue, 3.1 retry": a summary column, cut with a visible "..." when it does not fit. */
static void append_decision(char *buf, size_t size, const char *step, const char *decision)
{
	size_t used = strlen(buf);

	if (used + 4 >= size)
		return;
	if (text_format_cut(buf + used, size - used, "%s%s %s", used > 0 ? ", " : "", step,
			    decision))
		memcpy(buf + size - 4, "...", 4);
}

static int runner_action(const char *a)
{
	return strncmp(a, "ceremony.", 9) == 0 || strncmp(a, "step.", 5) == 0 ||
	       strcmp(a, "media.manifest") == 0;
}

/* What the summary lists for each ceremony: how it was run and what went off script. */
static int scan_conduct(struct ceremony_file *f, const char *action, json_t *d)
{
	json_t *ov = json_object_get(d, "network_override");
	int r = 0;

	if (ov != NULL && (strcmp(action, "ceremony.begin") == 0 ||
			   strcmp(action, "ceremony.resumed") == 0)) {
		f->overrides++;
		if ((r = text_copy(f->override_by, sizeof(f->override_by),
				   "network override's allowed_by",
				   json_string_value(json_object_get(ov, "allowed_by")) != NULL
				       ? json_string_value(json_object_get(ov, "allowed_by"))
				       : "?")) != 0)
			return r;
	}
	if (has_test_cost(d))
		f->test_cost++;
	if (strcmp(action, "ceremony.start") == 0)
		r = text_copy(f->mode, sizeof(f->mode), "ceremony mode",
			      json_string_value(json_object_get(d, "mode")) != NULL
				      ? json_string_value(json_object_get(d, "mode"))
				      : "?");
	else if (strcmp(action, "step.exception") == 0) {
		f->exceptions++;
		append_decision(f->decisions, sizeof(f->decisions),
			    json_string_value(json_object_get(d, "step")) ? json_string_value(json_object_get(d, "step")) : "?",
			    json_string_value(json_object_get(d, "decision")) ? json_string_value(json_object_get(d, "decision")) : "?");
	} else if (strcmp(action, "ceremony.stopped") == 0)
		f->stops++;
	else if (strcmp(action, "ceremony.resumed") == 0)
		f->resumes++;
	else if (strcmp(action, "step.unrecognised") == 0)
		f->unrecognised++;
	else if (strcmp(action, "annex.commit") == 0)
		f->annexes++;
	else if (strcmp(action, "ceremony.abandoned") == 0) {
		f->abandoned = 1;
		/* Free text a person typed: a summary column, cut with a visible "...". */
		if (text_format_cut(f->abandon_reason, sizeof(f->abandon_reason), "%s",
				    json_string_value(json_object_get(d, "reason")) != NULL
					    ? json_string_value(json_object_get(d, "reason"))
					    : "no reason recorded"))
			memcpy(f->abandon_reason + sizeof(f->abandon_reason) - 4, "...", 4);
	}
	if (r == 0 && !runner_action(action) && f->consequential++ == 0)
		r = text_copy(f->first_consequential, sizeof(f->first_consequential), "action name",
			      action);
	return r;
}

static int scan_cb(void *arg, long line, json_t *rec)
{
	struct ceremony_file *f = arg;
	const char *when = json_string_value(json_object_get(rec, "time"));
	const char *action = json_string_value(json_object_get(rec, "action"));
	int r;

	if (action == NULL)
		return cer_err(CER_E_VERIFY, "%s line %ld: a record without an action", f->path, line);
	if ((r = scan_conduct(f, action, json_object_get(rec, "details"))) != 0 ||
	    (r = text_copy(f->last_time, sizeof(f->last_time), "record time", when)) != 0) {
		cer_err_prefix("%s line %ld: ", f->path, line);
		return r;
	}

	f->records = line;
	if (line == 1) {
		memcpy(f->first_time, f->last_time, sizeof(f->first_time));
		if ((r = scan_begin(f, rec)) != 0)
			return r;
	}
	if (strcmp(action, "cert.root") == 0 && f->root_path[0] == '\0') {
		const char *p = json_string_value(
			json_object_get(json_array_get(json_object_get(rec, "outputs"), 0), "path"));
		if (p != NULL && (r = archive_resolve_entry(f->view, f->path, line,
							    json_array_get(json_object_get(rec, "outputs"), 0),
							    f->root_path)) != 0)
			return r;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct ceremony_file *)a)->name,
		      ((const struct ceremony_file *)b)->name);
}

static int audit_list(struct audit *a)
{
	DIR *d = opendir(a->o->dir);
	struct dirent *de;
	int r = 0;

	if (d == NULL)
		return cer_err(CER_E_IO, "%s: cannot read the folder: %s", a->o->dir,
			       strerror(errno));
	while ((de = readdir(d)) != NULL && r == 0) {
		size_t len = strlen(de->d_name);
		struct ceremony_file *grown, *f;
		if (len < 7 || strcmp(de->d_name + len - 6, ".jsonl") != 0)
			continue;
		if (a->n == AUDIT_MAX_TRANSCRIPTS) {
			r = cer_err(CER_E_INPUT, "%s: more than %d transcripts", a->o->dir,
				    AUDIT_MAX_TRANSCRIPTS);
			break;
		}
		grown = realloc(a->files, (a->n + 1) * sizeof(*grown));
		if (grown == NULL) {
			r = cer_err(CER_E_NOMEM, "out of memory");
			break;
		}
		a->files = grown;
		f = &a->files[a->n++];
		memset(f, 0, sizeof(*f));
		memcpy(f->name, de->d_name, len + 1);
		f->before = f->after = -1;
		f->view = &a->o->view;
		if (snprintf(f->path, sizeof(f->path), "%s/%s", a->o->dir, de->d_name) >=
		    (int)sizeof(f->path))
			r = cer_err(CER_E_INPUT, "%s: path too long", a->o->dir);
	}
	closedir(d);
	if (r == 0 && a->n == 0)
		r = cer_err(CER_E_NOTFOUND, "%s: no transcripts (*.jsonl)", a->o->dir);
	if (r == 0)
		qsort(a->files, a->n, sizeof(a->files[0]), by_name);
	return r;
}

/* One transcript's hash, seal's hash and records (its chain checked), read once: the
 * bytes and records are kept for its verification (transcript_verify_read). */
static int scan_one(struct ceremony_file *f)
{
	char seal[PATH_MAX];
	int r;

	if ((r = transcript_read_walk(f->path, scan_cb, f, &f->read)) != 0)
		return r;
	if (EVP_Digest(f->read.data, f->read.len, f->sha256, NULL, EVP_sha256(), NULL) != 1)
		return cer_err_ssl(CER_E_CRYPTO, "%s: cannot hash", f->path);
	if (snprintf(seal, sizeof(seal), "%s.sig", f->path) >= (int)sizeof(seal))
		return cer_err(CER_E_INPUT, "%s: path too long", f->path);
	f->sealed = file_exists(seal);
	if (f->sealed && (r = file_sha256(seal, f->seal_sha256)) != 0)
		return r;
	return 0;
}

/* The scan shares the transcripts between two threads (each file is its own). */
struct scan_job {
	struct ceremony_file *files;
	size_t n;
	atomic_size_t next;
	int *rs;
	char (*msgs)[1024];
};

static void *scan_worker(void *arg)
{
	struct scan_job *j = arg;
	size_t i;

	while ((i = atomic_fetch_add(&j->next, 1)) < j->n) {
		cer_err_clear();
		if ((j->rs[i] = scan_one(&j->files[i])) != 0 &&
		    text_copy(j->msgs[i], sizeof(j->msgs[i]), "message", cer_err_msg(j->rs[i])) != 0)
			j->msgs[i][0] = '\0';
		ERR_clear_error();
	}
	return NULL;
}

/* Each transcript's hash, seal's hash and first record; the chain of each is checked.
 * A fault is reported for the first transcript (by name) that has one. */
static int audit_scan(struct audit *a)
{
	struct scan_job j;
	pthread_t th;
	int r = 0, threaded;

	memset(&j, 0, sizeof(j));
	j.files = a->files;
	j.n = a->n;
	atomic_store(&j.next, 0);
	j.rs = calloc(a->n, sizeof(*j.rs));
	j.msgs = calloc(a->n, sizeof(*j.msgs));
	if (j.rs == NULL || j.msgs == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	threaded = a->n > 1 && sysconf(_SC_NPROCESSORS_ONLN) > 1 &&
		   pthread_create(&th, NULL, scan_worker, &j) == 0;
	(void)scan_worker(&j);
	if (threaded)
		pthread_join(th, NULL);
	for (size_t i = 0; i < a->n && r == 0; i++) {
		if (j.rs[i] != 0)
			r = cer_err(j.rs[i], "%s", j.msgs[i]);
		a->n_abandoned += a->files[i].abandoned != 0;
		a->annexes += a->files[i].annexes;
	}
out:
	free(j.rs);
	free(j.msgs);
	return r;
}

static int link_one(struct audit *a, size_t i)
{
	struct ceremony_file *f = &a->files[i], *p;
	size_t j;

	for (j = 0; j < a->n; j++)
		if (j != i && memcmp(a->files[j].sha256, f->prev_sha256, SHA256_LEN) == 0)
			break;
	if (j == a->n)
		return cer_err(CER_E_VERIFY,
			       "%s line 1: its previous ceremony (%s) is not in the folder with "
			       "that SHA-256: a ceremony was removed or its transcript changed",
			       f->path, f->prev_name);
	p = &a->files[j];
	if (p->after >= 0)
		return cer_err(CER_E_VERIFY,
			       "%s line 1: %s already follows %s: the chain forks (two ceremonies "
			       "name the same previous one)",
			       f->path, a->files[p->after].name, p->name);
	if (strcmp(p->name, f->prev_name) != 0)
		return cer_err(CER_E_VERIFY,
			       "%s line 1: names its previous ceremony %s, but that transcript is "
			       "now %s: files were renamed or reordered",
			       f->path, f->prev_name, p->name);
	if (!p->sealed || CRYPTO_memcmp(p->seal_sha256, f->prev_seal, SHA256_LEN) != 0)
		return cer_err(CER_E_VERIFY,
			       "%s line 1: the seal of %s is not the one recorded when this "
			       "ceremony began",
			       f->path, p->name);
	/* RFC 3339 UTC texts of one length compare as times. */
	if (strcmp(f->first_time, p->last_time) < 0)
		return cer_err(CER_E_VERIFY, "%s line 1: begins (%s) before %s ended (%s)", f->path,
			       f->first_time, p->name, p->last_time);
	p->after = (long)i;
	f->before = (long)j;
	return 0;
}

/* One chain from the one first ceremony through every transcript. */
static int audit_order(struct audit *a, size_t *order)
{
	long first = -1, cur;
	size_t n = 0;
	int r;

	for (size_t i = 0; i < a->n; i++) {
		if (!a->files[i].first || a->files[i].abandoned)
			continue;
		if (first >= 0)
			return cer_err(CER_E_VERIFY,
				       "%s line 1: a second first ceremony (previous null), besides "
				       "%s: the history forks",
				       a->files[i].path, a->files[first].name);
		first = (long)i;
	}
	if (first < 0)
		return cer_err(CER_E_VERIFY,
			       "%s: no first ceremony (every transcript names a previous one): the "
			       "first was removed",
			       a->o->dir);
	for (size_t i = 0; i < a->n; i++)
		if (!a->files[i].first && !a->files[i].abandoned && (r = link_one(a, i)) != 0)
			return r;
	for (cur = first; cur >= 0 && n < a->n; cur = a->files[cur].after)
		order[n++] = (size_t)cur;
	for (size_t i = 0; i < a->n; i++)
		if (a->files[i].before < 0 && (long)i != first && !a->files[i].abandoned)
			return cer_err(CER_E_VERIFY, "%s: not on the chain", a->files[i].path);
	if (n != a->n - a->n_abandoned)
		return cer_err(CER_E_VERIFY, "%s: the chain loops", a->o->dir);
	/* Abandoned ceremonies are checked after the chain, in name order. */
	for (size_t i = 0; i < a->n; i++)
		if (a->files[i].abandoned)
			order[n++] = i;
	return 0;
}

static int seconds_text(double s, char *out, size_t size)
{
	long t = (long)(s + 0.5);

	if (t >= 60)
		return text_format(out, size, "reconstitution time", "%ld min %ld s", t / 60,
				   t % 60);
	return text_format(out, size, "reconstitution time", "%.1f s", s);
}

/* How the ceremony was run: listed whether or not anything went off script. */
static void conduct_line(FILE *out, const struct ceremony_file *f)
{
	fprintf(out, "     run: %s", f->mode[0] ? (strcmp(f->mode, "answers") == 0
							? "answers file (non-interactive)"
							: f->mode)
						 : "single command (no script)");
	fprintf(out, "; %ld exception%s", f->exceptions, f->exceptions == 1 ? "" : "s");
	if (f->exceptions > 0) {
		fputs(" (", out);
		printout_safe(out, f->decisions);
		fputs(")", out);
	}
	fprintf(out, "; %ld stop%s; %ld resume%s", f->stops, f->stops == 1 ? "" : "s", f->resumes,
		f->resumes == 1 ? "" : "s");
	if (f->unrecognised > 0)
		fprintf(out, "; %ld answer%s asked again", f->unrecognised,
			f->unrecognised == 1 ? "" : "s");
	if (f->overrides > 0) {
		fprintf(out, "; AIR GAP OVERRIDDEN %ld time%s (", f->overrides,
			f->overrides == 1 ? "" : "s");
		printout_safe(out, f->override_by);
		fputs(")", out);
	} else
		fputs("; air gap not overridden", out);
	if (f->test_cost > 0)
		fprintf(out, "; TEST COST settings in %ld record%s (not for production)",
			f->test_cost, f->test_cost == 1 ? "" : "s");
	if (f->annexes > 0)
		fputs("; per-card steps in a confidential annex, committed by hash, NOT OPENED here",
		      out);
	fputc('\n', out);
}

static int ceremony_line(struct audit *a, size_t pos, const struct ceremony_file *f,
			 const struct replay_report *rr, const struct countersig_report *cs,
			 long files_missing)
{
	const struct audit_counts *c = &a->hist.now;
	char t[32] = "";
	int r;

	/* Everything that can fail before the line is begun. */
	if (c->drills + c->recoveries > 0 &&
	    (r = seconds_text(c->last_drill_seconds, t, sizeof(t))) != 0) {
		cer_err_prefix("%s: ", f->name);
		return r;
	}

	fprintf(a->out, "%04zu %-24s ", pos, f->name);
	printout_safe(a->out, f->id);
	fprintf(a->out, "  %.10s  %ld records  %s", f->first_time, f->records,
		f->sealed ? "sealed \u2713" : "NOT SEALED (hash chain checked)");
	if (cs->count > 0)
		fprintf(a->out, "  countersigned by %s \u2713", cs->roles);
	if (c->witnesses > 0)
		fprintf(a->out, "  %ld witness key%s registered", c->witnesses,
			c->witnesses == 1 ? "" : "s");
	/* A ✓ only for what was replayed (issue 11.4). */
	if (rr->certificates > 0)
		fprintf(a->out, "  %ld certificate%s replayed \u2713 (signature, key, profile, "
				"serial unique)",
			rr->certificates, rr->certificates == 1 ? "" : "s");
	if (rr->crls > 0)
		fprintf(a->out, "  CRL %lld replayed \u2713", a->hist.crl_number);
	else if (c->crls > 0)
		fprintf(a->out, "  CRL %lld recorded", a->hist.crl_number);
	if (c->backups_created > 0)
		fprintf(a->out, "  backup created%s", c->backups_superseded ? " (rekey)" : "");
	if (c->drills + c->recoveries > 0) {
		/* Recorded, not replayable offline: no ✓. */
		fprintf(a->out, "  %s recorded: reconstituted in %s", c->drills ? "drill" : "recovery",
			t);
	}
	if (rr->not_present > 0)
		fprintf(a->out, "  NOT REPLAYED: %ld record%s (files not present)", rr->not_present,
			rr->not_present == 1 ? "" : "s");
	if (files_missing > 0)
		fprintf(a->out, "  NOT CHECKED: %ld recorded file%s not present", files_missing,
			files_missing == 1 ? "" : "s");
	fputc('\n', a->out);
	conduct_line(a->out, f);
	return 0;
}

static void counts_add(struct audit_counts *t, const struct audit_counts *c)
{
	t->certificates += c->certificates;
	t->crls += c->crls;
	t->witnesses += c->witnesses;
	t->backups_created += c->backups_created;
	t->backups_superseded += c->backups_superseded;
	t->drills += c->drills;
	t->recoveries += c->recoveries;
}

/* Without --root, the root is the certificate the first ceremony made (and sealed). */
static int audit_root(struct audit *a, const struct ceremony_file *first)
{
	struct transcript_report rep;
	int r;

	if (a->root != NULL)
		return 0;
	if (first->root_path[0] == '\0')
		return cer_err(CER_E_USAGE, "%s records no root certificate; give --root root.pem",
			       first->path);
	if ((r = pem_load_cert(first->root_path, &a->root)) != 0)
		return r;
	/* The seal must be that certificate's, not merely some key the transcript records. */
	return transcript_verify_view(first->path, &a->o->view, a->root, 0, NULL, &rep);
}

/* The ceremony made a new root and the root in force cross-certified it: from the next
 * ceremony on, the new root seals and issues; the old one only if the rollover said so. */
static int audit_rollover(struct audit *a, const struct ceremony_file *f,
			  const struct replay_report *rr)
{
	X509 *next = NULL;
	uint8_t fp[SHA256_LEN];
	unsigned len = 0;
	char name[256];
	int r;

	if ((r = pem_load_cert(rr->new_root, &next)) != 0)
		return r;
	if (!X509_digest(next, EVP_sha256(), fp, &len)) {
		X509_free(next);
		return cer_err_ssl(CER_E_CRYPTO, "cannot hash %s", rr->new_root);
	}
	X509_NAME_oneline(X509_get_subject_name(next), name, sizeof(name));
	if (rr->old_root_may_issue) {
		if (a->also == NULL && (a->also = sk_X509_new_null()) == NULL) {
			X509_free(next);
			return cer_err(CER_E_NOMEM, "out of memory");
		}
		if (!sk_X509_push(a->also, a->root)) {
			X509_free(next);
			return cer_err(CER_E_NOMEM, "out of memory");
		}
	} else {
		X509_free(a->root);
	}
	a->root = next;
	a->n_roots++;
	fprintf(a->out, "   rollover in %s: root %d is %s, cross-certified by root %d; the old root "
			"%s\n",
		f->name, a->n_roots, name, a->n_roots - 1,
		rr->old_root_may_issue ? "may still issue (recorded)" : "issues no more");
	readaloud_print(a->out, "   new root sha256", fp, 32);
	return 0;
}

/*
 * Issue 13: once the root is known, the heavy, independent part of each ceremony
 * (its chain, files and seal; the replay of what it issued) runs ahead on worker
 * threads, in chain order; audit_one takes the result when the root it was
 * checked against is still the root in force, and checks again itself otherwise
 * (after a rollover) or when every line is printed (--verbose).
 */
struct prefetch_one {
	int done, r;
	struct transcript_report rep;
	struct replay_report rr;
	json_t *records; /* parsed once from the sealed bytes, for audit_one's passes */
	char msg[CER_ERR_DETAIL_SIZE];
};

struct prefetch {
	struct audit *a;
	const size_t *order;
	size_t from, chain;
	X509 *root; /* the root the workers check against */
	struct prefetch_one *res;
	atomic_size_t next;
	atomic_int stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t th[AUDIT_THREADS];
	int n_threads;
};

static void *prefetch_worker(void *arg)
{
	struct prefetch *p = arg;
	size_t i;

	while (!atomic_load(&p->stop) && (i = atomic_fetch_add(&p->next, 1)) < p->chain) {
		struct ceremony_file *f = &p->a->files[p->order[i]];
		struct prefetch_one *o = &p->res[i];
		int r;
		cer_err_clear();
		r = transcript_verify_read(f->path, &f->read, &p->a->o->view, p->root,
					   f->sealed ? 0 : TRANSCRIPT_ALLOW_UNSEALED, NULL, &o->rep,
					   &o->records);
		if (r == 0)
			r = replay_records_history(f->path, o->records, &p->a->o->view, p->root, NULL,
						   NULL, &o->rr);
		/* The detail fits whole: msg has CER_ERR_DETAIL_SIZE bytes. */
		if (r != 0)
			text_format_cut(o->msg, sizeof(o->msg), "%s", cer_err_msg(r));
		ERR_clear_error();
		pthread_mutex_lock(&p->lock);
		o->r = r;
		o->done = 1;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

static int prefetch_start(struct prefetch *p, struct audit *a, const size_t *order, size_t from,
			  size_t chain)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	memset(p, 0, sizeof(*p));
	if (a->o->verbose || a->root == NULL || a->also != NULL || from >= chain || cores < 2)
		return 0;
	p->a = a;
	p->order = order;
	p->from = from;
	p->chain = chain;
	atomic_store(&p->next, from);
	if ((p->res = calloc(chain, sizeof(*p->res))) == NULL ||
	    (p->root = X509_dup(a->root)) == NULL) {
		free(p->res);
		p->res = NULL;
		return cer_err(CER_E_NOMEM, "out of memory");
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	for (int t = 0; t < AUDIT_THREADS && t < cores; t++)
		if (pthread_create(&p->th[t], NULL, prefetch_worker, p) == 0)
			p->n_threads++;
	return 0;
}

/* The workers' result for chain position i, if it holds for the root now in force. */
static struct prefetch_one *prefetch_get(struct prefetch *p, size_t i)
{
	struct prefetch_one *o;

	if (p->n_threads == 0 || i < p->from || i >= p->chain || p->a->also != NULL ||
	    X509_cmp(p->a->root, p->root) != 0)
		return NULL;
	o = &p->res[i];
	pthread_mutex_lock(&p->lock);
	while (!o->done)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return o;
}

/* Whether a worker may be reading chain position i's transcript. */
static int prefetch_may_read(const struct prefetch *p, size_t i)
{
	return p->n_threads > 0 && i >= p->from && i < p->chain;
}

static void prefetch_end(struct prefetch *p)
{
	atomic_store(&p->stop, 1);
	for (int t = 0; t < p->n_threads; t++)
		pthread_join(p->th[t], NULL);
	if (p->res != NULL) {
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->cond);
		for (size_t i = 0; i < p->chain; i++)
			json_decref(p->res[i].records);
	}
	free(p->res);
	X509_free(p->root);
	memset(p, 0, sizeof(*p));
}

static int audit_one(struct audit *a, size_t pos, struct ceremony_file *f,
		     uint8_t heads[][SHA256_LEN], struct prefetch_one *pre)
{
	FILE *v = a->o->verbose ? a->out : NULL;
	struct transcript_report rep;
	struct replay_report rr;
	struct countersig_report cs;
	size_t idx = (size_t)(f - a->files);
	json_t *records = NULL; /* the sealed bytes' records, parsed once for every pass */
	int r;

	if (v != NULL)
		fprintf(v, "%s\n", f->path);
	if (pre != NULL && pre->r != 0)
		return cer_err(pre->r, "%s", pre->msg);
	if (pre != NULL) {
		rep = pre->rep;
		records = pre->records;
		pre->records = NULL;
	}
	/* Only the latest ceremony may be unsealed (link_one refused any other): it is
	 * still in progress, and what it did is not proven yet. Without a root (only with
	 * --allow-unanchored), the first ceremony is checked before its own root is taken. */
	else if ((r = transcript_verify_read(
			  f->path, &f->read, &a->o->view, a->root,
			  (f->sealed ? 0 : TRANSCRIPT_ALLOW_UNSEALED) |
				  (a->root == NULL ? TRANSCRIPT_ALLOW_UNANCHORED : 0),
			  v, &rep, &records)) != 0)
		return r;
	if ((r = transcript_test_cost_check(f->path, &rep, a->o->test_cost_allowed, a->out)) != 0)
		goto out;
	if (!f->sealed)
		a->in_progress = f->name;
	a->files_missing += rep.outputs_missing;
	a->files_outside += rep.outputs_outside;
	memcpy(heads[idx], rep.head, SHA256_LEN);
	if (f->before >= 0 && CRYPTO_memcmp(heads[f->before], f->prev_head, SHA256_LEN) != 0) {
		r = cer_err(CER_E_VERIFY, "%s line 1: the head of %s is not the one recorded",
			    f->path, a->files[f->before].name);
		goto out;
	}
	if (pos == 1 && (r = audit_root(a, f)) != 0)
		goto out;
	/* The records first (serials, CA names over the whole history, issue 10.2), then
	 * the files. */
	memset(&a->hist.now, 0, sizeof(a->hist.now));
	a->hist.file = f->name;
	if ((r = transcript_each_records(f->path, records, audit_history_record, &a->hist)) != 0)
		goto out;
	if (pre != NULL && pos != 1)
		rr = pre->rr;
	else if ((r = replay_records_history(f->path, records, &a->o->view, a->root, a->also, v,
					     &rr)) != 0)
		goto out;
	if (rr.new_root[0] != '\0' && (r = audit_rollover(a, f, &rr)) != 0)
		goto out;
	/* Witness keys count once their own transcript's seal has been verified. */
	if ((r = countersig_registry_add_records(a->reg, f->path, records)) != 0 ||
	    (r = countersig_check_all(f->path, a->reg, v, &cs)) != 0)
		goto out;
	counts_add(&a->hist.total, &a->hist.now);
	a->not_replayed += rr.not_present;
	if ((r = ceremony_line(a, pos, f, &rr, &cs, rep.outputs_missing + rep.outputs_outside)) != 0)
		goto out;
	/* Every certificate, CRL and policy change after the policy carries approvals (quorum.h). */
	r = quorum_check_transcript(&a->quorum, f->path, a->out);
out:
	json_decref(records);
	return r;
}

/* An abandoned ceremony: out of the chain, checked as far as it can be, listed as such. */
static int audit_abandoned(struct audit *a, struct ceremony_file *f)
{
	FILE *v = a->o->verbose ? a->out : NULL;
	struct transcript_report rep;
	struct replay_report rr;
	json_t *records = NULL;
	int r;

	if (v != NULL)
		fprintf(v, "%s\n", f->path);
	r = transcript_verify_read(f->path, &f->read, &a->o->view, a->root, !f->sealed, v, &rep,
				   &records);
	if (r == 0)
		r = replay_records_history(f->path, records, &a->o->view, a->root, NULL, v, &rr);
	json_decref(records);
	if (r != 0)
		return r;
	a->files_missing += rep.outputs_missing;
	a->files_outside += rep.outputs_outside;
	a->not_replayed += rr.not_present;
	fprintf(a->out, "---- %-24s ", f->name);
	printout_safe(a->out, f->id);
	fprintf(a->out, "  %.10s  %ld records  ABANDONED: ", f->first_time, f->records);
	printout_safe(a->out, f->abandon_reason);
	if (f->sealed)
		fputs("; sealed \u2713", a->out);
	else if (f->consequential == 0)
		fputs("; not sealed (hash chain checked; it records no key, certificate, card or "
		      "backup action)",
		      a->out);
	else {
		a->unproven_abandoned++;
		fprintf(a->out, "; NOT SEALED: its %ld action record%s (first: %s) are unproven",
			f->consequential, f->consequential == 1 ? "" : "s", f->first_consequential);
	}
	if (rr.certificates > 0)
		fprintf(a->out, "; %ld certificate%s replayed \u2713 (not in the inventory)",
			rr.certificates, rr.certificates == 1 ? "" : "s");
	if (rr.not_present > 0)
		fprintf(a->out, "; NOT REPLAYED: %ld record%s", rr.not_present,
			rr.not_present == 1 ? "" : "s");
	if (rep.outputs_missing > 0)
		fprintf(a->out, "; NOT CHECKED: %ld recorded file%s not present",
			rep.outputs_missing, rep.outputs_missing == 1 ? "" : "s");
	fputc('\n', a->out);
	conduct_line(a->out, f);
	return 0;
}

/* Say what could not be checked; without --partial that is a failed audit. */
static int audit_gaps(struct audit *a, int *gaps)
{
	FILE *out = a->out;

	*gaps = 0;
	if (a->in_progress != NULL) {
		fprintf(out, "Not checked: %s is in progress (not sealed): its hash chain holds, but "
			     "nothing it records is proven until it is sealed\n",
			a->in_progress);
		(*gaps)++;
	}
	if (a->not_replayed > 0) {
		fprintf(out, "Not checked: %ld record%s could not be replayed (the certificates, CSRs, "
			     "profiles or CRLs they name are not present; see docs/audit.md for the "
			     "archive an auditor needs)\n",
			a->not_replayed, a->not_replayed == 1 ? "" : "s");
		(*gaps)++;
	}
	if (a->files_missing > 0) {
		fprintf(out, "Not checked: %ld recorded file%s not present, so %s hash%s not "
			     "compared\n",
			a->files_missing, a->files_missing == 1 ? "" : "s",
			a->files_missing == 1 ? "its" : "their", a->files_missing == 1 ? " was" : "es were");
		(*gaps)++;
	}
	if (a->files_outside > 0) {
		fprintf(out, "Not checked: %ld recorded file%s outside the CA's archive (recorded by "
			     "name and SHA-256 only, or reached through a symbolic link out of it); "
			     "--outside DIR names a folder holding copies\n",
			a->files_outside, a->files_outside == 1 ? " was" : "s were");
		(*gaps)++;
	}
	if (a->unproven_abandoned > 0) {
		fprintf(out, "Not checked: %ld abandoned ceremon%s not sealed but record%s actions\n",
			a->unproven_abandoned, a->unproven_abandoned == 1 ? "y is" : "ies are",
			a->unproven_abandoned == 1 ? "s" : "");
		(*gaps)++;
	}
	if (*gaps > 0 && !a->o->partial)
		return cer_err(CER_E_VERIFY,
			       "the audit is incomplete: %d kind%s of check could not be done (listed "
			       "above); give --partial to accept a partial audit",
			       *gaps, *gaps == 1 ? "" : "s");
	return 0;
}

int audit_run(const struct audit_opts *o, FILE *out)
{
	struct prefetch pf;
	struct audit a;
	size_t *order = NULL;
	uint8_t(*heads)[SHA256_LEN] = NULL;
	long live = 0;
	size_t chain;
	int r, gaps = 0;

	memset(&a, 0, sizeof(a));
	memset(&pf, 0, sizeof(pf));
	quorum_state_init(&a.quorum);
	a.o = o;
	a.out = out;
	a.n_roots = 1;
	if (o->root_path == NULL && !o->allow_unanchored)
		return cer_err(CER_E_USAGE, "audit without --root is unanchored: a history made with "
					    "any key agrees with itself; give --root root.pem (its "
					    "fingerprint checked against the paper record), or "
					    "--allow-unanchored to accept that");
	if (o->root_path != NULL && (r = pem_load_cert(o->root_path, &a.root)) != 0)
		return r;
	if ((r = countersig_registry_new(&a.reg)) != 0 || (r = audit_list(&a)) != 0 ||
	    (r = audit_scan(&a)) != 0)
		goto out;
	order = calloc(a.n, sizeof(*order));
	heads = calloc(a.n, sizeof(*heads));
	if (order == NULL || heads == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	if (a.n_abandoned == a.n) {
		r = cer_err(CER_E_NOTFOUND, "%s: every transcript is of an abandoned ceremony; "
					    "there is no history to audit",
			    o->dir);
		goto out;
	}
	if ((r = audit_order(&a, order)) != 0)
		goto out;
	chain = a.n - a.n_abandoned;
	fprintf(out, "Auditing %zu ceremon%s in %s%s", chain, chain == 1 ? "y" : "ies", o->dir,
		o->root_path != NULL ? " against the given root"
				     : " (UNANCHORED: against the root the history itself made)");
	if (a.n_abandoned > 0)
		fprintf(out, ", and %zu abandoned", a.n_abandoned);
	fputc('\n', out);
	for (size_t i = 0; i < chain; i++) {
		struct prefetch_one *pre;
		if (i == 1 && (r = prefetch_start(&pf, &a, order, 1, chain)) != 0)
			goto out;
		pre = prefetch_get(&pf, i);
		if ((r = audit_one(&a, i + 1, &a.files[order[i]], heads, pre)) != 0)
			goto out;
		/* Its bytes are not needed any more, unless a worker may still be reading them
		 * (a result not taken, after a rollover): those go at the end. */
		if (pre != NULL || !prefetch_may_read(&pf, i))
			transcript_read_free(&a.files[order[i]].read);
	}
	prefetch_end(&pf);
	for (size_t i = chain; i < a.n; i++)
		if ((r = audit_abandoned(&a, &a.files[order[i]])) != 0)
			goto out;
	audit_history_print(&a.hist, out, &live);
	quorum_report(&a.quorum, out);
	readaloud_print(out, "last head", heads[order[chain - 1]], 32);
	if ((r = audit_gaps(&a, &gaps)) != 0)
		goto out;
	fprintf(out, "History intact%s%s: %zu ceremonies, %ld records, %ld live certificate%s, ",
		o->root_path != NULL ? "" : " (unanchored)",
		gaps > 0 ? " AS FAR AS CHECKED (partial audit, --partial)" : "", chain,
		a.hist.records, live, live == 1 ? "" : "s");
	if (a.n_roots > 1)
		fprintf(out, "%d roots (rolled over), ", a.n_roots);
	if (a.hist.crl_number > 0)
		fprintf(out, "CRL number %lld", a.hist.crl_number);
	else
		fprintf(out, "no CRL yet");
	if (a.n_abandoned > 0)
		fprintf(out, "; %zu abandoned ceremon%s, not part of the chain", a.n_abandoned,
			a.n_abandoned == 1 ? "y" : "ies");
	fputs(".\n", out);
	/* By design out of a public audit's reach (issue 11.5): said, never passed over. */
	if (a.annexes > 0)
		fprintf(out, "Not opened: %ld confidential anne%s (the steps once per Key Executive "
			     "card, whose number is n), each committed to by its SHA-256 in a sealed "
			     "transcript; an auditor cleared for them checks them (docs/scripts.md, "
			     "\"Confidential lists and the annex\")\n",
			a.annexes, a.annexes == 1 ? "x" : "xes");
	r = 0;
out:
	if (r != 0 && gaps > 0)
		fprintf(out, "INCOMPLETE: not everything could be checked (listed above); the "
			     "reason follows on standard error\n");
	else if (r != 0)
		fprintf(out, "FAULT: audit stopped; the reason follows on standard error\n");
	prefetch_end(&pf);
	free(order);
	free(heads);
	audit_history_free(&a.hist);
	quorum_state_free(&a.quorum);
	countersig_registry_free(a.reg);
	for (size_t i = 0; i < a.n; i++)
		transcript_read_free(&a.files[i].read);
	free(a.files);
	X509_free(a.root);
	sk_X509_pop_free(a.also, X509_free);
	return r;
}

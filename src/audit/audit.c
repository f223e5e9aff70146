#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "audit_int.h"
#include "ceremony/audit.h"
#include "ceremony/countersig.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/pem.h"
#include "ceremony/printout.h"
#include "ceremony/readaloud.h"
#include "ceremony/replay.h"
#include "ceremony/transcript.h"

/* One transcript in the folder, as its first record places it. */
struct ceremony_file {
	char name[NAME_MAX + 1];
	char path[PATH_MAX];
	uint8_t sha256[32];
	int sealed;
	uint8_t seal_sha256[32];
	int first; /* previous is null */
	char prev_name[NAME_MAX + 1];
	uint8_t prev_sha256[32], prev_seal[32], prev_head[32];
	char id[128];
	char first_time[32], last_time[32];
	char root_path[PATH_MAX]; /* the cert.root output, if any */
	long records;
	long before, after; /* neighbours in the chain, -1 if none */
};

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
};

static int hex32(json_t *o, const char *key, uint8_t out[32])
{
	const char *s = json_string_value(json_object_get(o, key));
	return s != NULL && strlen(s) == 64 && hex_decode(s, 64, out, 32) == 0 ? 0 : -1;
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

	if (strcmp(action, "ceremony.begin") != 0)
		return cer_err(CER_E_VERIFY,
			       "%s line 1: is %s, not ceremony.begin: the transcript cannot be "
			       "placed in the CA's chain",
			       f->path, action);
	(void)snprintf(f->id, sizeof(f->id), "%s",
		       json_string_value(json_object_get(rec, "ceremony")) != NULL
			       ? json_string_value(json_object_get(rec, "ceremony"))
			       : "?");
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
	(void)snprintf(f->prev_name, sizeof(f->prev_name), "%s", base_name(p));
	return 0;
}

static int scan_cb(void *arg, long line, json_t *rec)
{
	struct ceremony_file *f = arg;
	const char *when = json_string_value(json_object_get(rec, "time"));
	const char *action = json_string_value(json_object_get(rec, "action"));
	int r;

	f->records = line;
	if (line == 1) {
		(void)snprintf(f->first_time, sizeof(f->first_time), "%s", when);
		if ((r = scan_begin(f, rec)) != 0)
			return r;
	}
	(void)snprintf(f->last_time, sizeof(f->last_time), "%s", when);
	if (strcmp(action, "cert.root") == 0 && f->root_path[0] == '\0') {
		const char *p = json_string_value(
			json_object_get(json_array_get(json_object_get(rec, "outputs"), 0), "path"));
		if (p != NULL && transcript_record_path(f->path, p, f->root_path,
							sizeof(f->root_path)) != 0)
			return cer_err(CER_E_INPUT, "%s line %ld: path too long", f->path, line);
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

/* Each transcript's hash, seal's hash and first record; the chain of each is checked. */
static int audit_scan(struct audit *a)
{
	char seal[PATH_MAX];
	int r;

	for (size_t i = 0; i < a->n; i++) {
		struct ceremony_file *f = &a->files[i];
		if ((r = transcript_each(f->path, scan_cb, f)) != 0 ||
		    (r = file_sha256(f->path, f->sha256)) != 0)
			return r;
		if (snprintf(seal, sizeof(seal), "%s.sig", f->path) >= (int)sizeof(seal))
			return cer_err(CER_E_INPUT, "%s: path too long", f->path);
		f->sealed = file_exists(seal);
		if (f->sealed && (r = file_sha256(seal, f->seal_sha256)) != 0)
			return r;
	}
	return 0;
}

static int link_one(struct audit *a, size_t i)
{
	struct ceremony_file *f = &a->files[i], *p;
	size_t j;

	for (j = 0; j < a->n; j++)
		if (j != i && memcmp(a->files[j].sha256, f->prev_sha256, 32) == 0)
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
	if (!p->sealed || CRYPTO_memcmp(p->seal_sha256, f->prev_seal, 32) != 0)
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
		if (!a->files[i].first)
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
		if (!a->files[i].first && (r = link_one(a, i)) != 0)
			return r;
	for (cur = first; cur >= 0 && n < a->n; cur = a->files[cur].after)
		order[n++] = (size_t)cur;
	for (size_t i = 0; i < a->n && n < a->n; i++)
		if (a->files[i].before < 0 && (long)i != first)
			return cer_err(CER_E_VERIFY, "%s: not on the chain", a->files[i].path);
	return n == a->n ? 0 : cer_err(CER_E_VERIFY, "%s: the chain loops", a->o->dir);
}

static void seconds_text(double s, char *out, size_t size)
{
	long t = (long)(s + 0.5);

	if (t >= 60)
		(void)snprintf(out, size, "%ld min %ld s", t / 60, t % 60);
	else
		(void)snprintf(out, size, "%.1f s", s);
}

static void ceremony_line(struct audit *a, size_t pos, const struct ceremony_file *f,
			  const struct replay_report *rr, const struct countersig_report *cs)
{
	const struct audit_counts *c = &a->hist.now;
	char t[32];

	fprintf(a->out, "%04zu %-24s ", pos, f->name);
	printout_safe(a->out, f->id);
	fprintf(a->out, "  %.10s  %ld records  sealed \u2713", f->first_time, f->records);
	if (cs->count > 0)
		fprintf(a->out, "  countersigned by %s \u2713", cs->roles);
	if (c->witnesses > 0)
		fprintf(a->out, "  %ld witness key%s registered", c->witnesses,
			c->witnesses == 1 ? "" : "s");
	if (c->certificates > 0)
		fprintf(a->out, "  %ld certificate%s \u2713 (CSR, profile, issuer, serial unique)",
			c->certificates, c->certificates == 1 ? "" : "s");
	if (c->crls > 0)
		fprintf(a->out, "  CRL %lld \u2713", a->hist.crl_number);
	if (c->backups_created > 0)
		fprintf(a->out, "  backup created%s", c->backups_superseded ? " (rekey)" : "");
	if (c->drills + c->recoveries > 0) {
		seconds_text(c->last_drill_seconds, t, sizeof(t));
		fprintf(a->out, "  %s: reconstituted in %s \u2713", c->drills ? "drill" : "recovery",
			t);
	}
	if (rr->not_present > 0)
		fprintf(a->out, "  (%ld records' files not present: not replayed)", rr->not_present);
	fputc('\n', a->out);
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
	return transcript_verify(first->path, a->root, 0, NULL, &rep);
}

/* The ceremony made a new root and the root in force cross-certified it: from the next
 * ceremony on, the new root seals and issues; the old one only if the rollover said so. */
static int audit_rollover(struct audit *a, const struct ceremony_file *f,
			  const struct replay_report *rr)
{
	X509 *next = NULL;
	uint8_t fp[32];
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

static int audit_one(struct audit *a, size_t pos, struct ceremony_file *f, uint8_t heads[][32])
{
	FILE *v = a->o->verbose ? a->out : NULL;
	struct transcript_report rep;
	struct replay_report rr;
	struct countersig_report cs;
	size_t idx = (size_t)(f - a->files);
	int r;

	if (v != NULL)
		fprintf(v, "%s\n", f->path);
	if ((r = transcript_verify(f->path, a->root, 0, v, &rep)) != 0)
		return r;
	memcpy(heads[idx], rep.head, 32);
	if (f->before >= 0 && CRYPTO_memcmp(heads[f->before], f->prev_head, 32) != 0)
		return cer_err(CER_E_VERIFY, "%s line 1: the head of %s is not the one recorded",
			       f->path, a->files[f->before].name);
	if (pos == 1 && (r = audit_root(a, f)) != 0)
		return r;
	if ((r = replay_transcript_roots(f->path, a->root, a->also, v, &rr)) != 0)
		return r;
	if (rr.new_root[0] != '\0' && (r = audit_rollover(a, f, &rr)) != 0)
		return r;
	/* Witness keys count once their own transcript's seal has been verified. */
	if ((r = countersig_registry_add(a->reg, f->path)) != 0 ||
	    (r = countersig_check_all(f->path, a->reg, v, &cs)) != 0)
		return r;
	memset(&a->hist.now, 0, sizeof(a->hist.now));
	a->hist.file = f->name;
	if ((r = transcript_each(f->path, audit_history_record, &a->hist)) != 0)
		return r;
	counts_add(&a->hist.total, &a->hist.now);
	ceremony_line(a, pos, f, &rr, &cs);
	return 0;
}

int audit_run(const struct audit_opts *o, FILE *out)
{
	struct audit a;
	size_t *order = NULL;
	uint8_t(*heads)[32] = NULL;
	long live = 0;
	int r;

	memset(&a, 0, sizeof(a));
	a.o = o;
	a.out = out;
	a.n_roots = 1;
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
	if ((r = audit_order(&a, order)) != 0)
		goto out;
	fprintf(out, "Auditing %zu ceremon%s in %s%s\n", a.n, a.n == 1 ? "y" : "ies", o->dir,
		o->root_path != NULL ? " against the given root" : "");
	for (size_t i = 0; i < a.n; i++)
		if ((r = audit_one(&a, i + 1, &a.files[order[i]], heads)) != 0)
			goto out;
	audit_history_print(&a.hist, out, &live);
	readaloud_print(out, "last head", heads[order[a.n - 1]], 32);
	fprintf(out, "History intact: %zu ceremonies, %ld records, %ld live certificate%s, ", a.n,
		a.hist.records, live, live == 1 ? "" : "s");
	if (a.n_roots > 1)
		fprintf(out, "%d roots (rolled over), ", a.n_roots);
	if (a.hist.crl_number > 0)
		fprintf(out, "CRL number %lld.\n", a.hist.crl_number);
	else
		fprintf(out, "no CRL yet.\n");
	r = 0;
out:
	if (r != 0)
		fprintf(out, "FAULT: audit stopped; the reason follows on standard error\n");
	free(order);
	free(heads);
	audit_history_free(&a.hist);
	countersig_registry_free(a.reg);
	free(a.files);
	X509_free(a.root);
	sk_X509_pop_free(a.also, X509_free);
	return r;
}

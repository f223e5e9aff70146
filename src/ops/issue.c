/* issue: the plan (requests, pins, outputs), every check before the login, then issue_sign_all. */
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony/certbuild.h"
#include "ceremony/certinfo.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/history.h"
#include "ceremony/hsm.h"
#include "ceremony/lint.h"
#include "ceremony/pem.h"
#include "ceremony/readaloud.h"
#include "ceremony/secret.h"
#include "ceremony/serials.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"
#include "issue_int.h"

#define ISSUE_THREADS_MAX 4

int issue_chain_path(const char *cert_path, char *out, size_t size)
{
	size_t len = strlen(cert_path);
	int n;

	if (len > 4 && strcmp(cert_path + len - 4, ".pem") == 0)
		n = snprintf(out, size, "%.*s-chain.pem", (int)(len - 4), cert_path);
	else
		n = snprintf(out, size, "%s-chain.pem", cert_path);
	return n < 0 || (size_t)n >= size ? cer_err(CER_E_INPUT, "%s: path too long", cert_path) : 0;
}

static int item_add(struct issue_run *run, const char *csr_path, const char *out_path)
{
	struct issue_item *it;
	char chain[PATH_MAX];
	const char *slash;
	int r;

	if (run->n_items == run->cap_items) {
		size_t cap = run->cap_items == 0 ? 64 : run->cap_items * 2;
		struct issue_item *grown = realloc(run->items, cap * sizeof(*grown));
		if (grown == NULL)
			return cer_err(CER_E_NOMEM, "out of memory");
		run->items = grown;
		run->cap_items = cap;
	}
	if ((r = issue_chain_path(out_path, chain, sizeof(chain))) != 0)
		return r;
	it = &run->items[run->n_items];
	memset(it, 0, sizeof(*it));
	run->n_items++;
	it->csr_path = strdup(csr_path);
	it->out_path = strdup(out_path);
	it->chain_path = strdup(chain);
	if (it->csr_path == NULL || it->out_path == NULL || it->chain_path == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	slash = strrchr(it->csr_path, '/');
	it->name = slash != NULL ? slash + 1 : it->csr_path;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_request_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	return name[0] != '.' && dot != NULL &&
	       (strcmp(dot, ".csr") == 0 || strcmp(dot, ".der") == 0 || strcmp(dot, ".pem") == 0);
}

/* Two requests that would write one certificate (a.csr and a.der): refused before anything. */
static int stems_unique(char **names, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		size_t a = (size_t)(strrchr(names[i - 1], '.') - names[i - 1]);
		size_t b = (size_t)(strrchr(names[i], '.') - names[i]);
		for (size_t j = i; j < n && a == b && strncmp(names[i - 1], names[j], a) == 0; j++) {
			b = (size_t)(strrchr(names[j], '.') - names[j]);
			if (a == b)
				return cer_err(CER_E_USAGE,
					       "%s and %s would both be signed into %.*s.pem: keep one; "
					       "nothing was signed",
					       names[i - 1], names[j], (int)a, names[j]);
		}
	}
	return 0;
}

/* Every *.csr, *.der or *.pem in csr_dir, in name order; DIR/X.csr -> OUT/X.pem. */
static int items_from_dir(struct issue_run *run)
{
	char **names = NULL, **grown;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(run->o->csr_dir);
	int r = 0;

	if (d == NULL)
		return cer_err(CER_E_NOTFOUND, "%s: cannot open the CSR folder", run->o->csr_dir);
	while ((de = readdir(d)) != NULL && r == 0) {
		if (!is_request_name(de->d_name))
			continue;
		if (n == cap) {
			cap = cap == 0 ? 256 : cap * 2;
			if ((grown = realloc(names, cap * sizeof(*names))) == NULL) {
				r = cer_err(CER_E_NOMEM, "out of memory");
				break;
			}
			names = grown;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			r = cer_err(CER_E_NOMEM, "out of memory");
		else
			n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(names[0]), by_name);
	if (r == 0)
		r = stems_unique(names, n);
	for (size_t i = 0; i < n && r == 0; i++) {
		char csr[PATH_MAX], out[PATH_MAX];
		int stem = (int)(strrchr(names[i], '.') - names[i]);
		if (snprintf(csr, sizeof(csr), "%s/%s", run->o->csr_dir, names[i]) >= (int)sizeof(csr) ||
		    snprintf(out, sizeof(out), "%s/%.*s.pem", run->o->out_dir, stem, names[i]) >=
			    (int)sizeof(out))
			r = cer_err(CER_E_INPUT, "%s: path too long", names[i]);
		else
			r = item_add(run, csr, out);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (r == 0 && n == 0)
		r = cer_err(CER_E_NOTFOUND, "%s: no *.csr, *.der or *.pem requests", run->o->csr_dir);
	return r;
}

static int policies_check(const struct issue_run *run)
{
	const struct issue_opts *o = run->o;
	int r;

	for (int i = 0; i < o->n_policies; i++) {
		ASN1_OBJECT *obj = OBJ_txt2obj(o->policies[i], 1);
		ASN1_OBJECT_free(obj);
		if (obj == NULL)
			return cer_err(CER_E_USAGE, "--policy %s is not a dotted OID", o->policies[i]);
		if (strcmp(o->policies[i], "2.5.29.32.0") == 0 &&
		    run->profile.kind == PROFILE_END_ENTITY)
			return cer_err(CER_E_REFUSED, "--policy anyPolicy is not for end entities");
		for (int j = 0; j < run->profile.n_policies; j++)
			if (strcmp(o->policies[i], run->profile.policies[j]) == 0)
				return cer_err(CER_E_USAGE, "--policy %s is already in the profile",
					       o->policies[i]);
		/* issue 10.3: --policy picks only from the profile's allowed_policies. */
		if ((r = profile_check_extra_policy(&run->profile, o->policies[i])) != 0)
			return r;
		for (int j = 0; j < i; j++)
			if (strcmp(o->policies[i], o->policies[j]) == 0)
				return cer_err(CER_E_USAGE, "--policy %s given twice", o->policies[i]);
	}
	if (run->profile.policies_required && run->profile.n_policies + o->n_policies == 0)
		return cer_err(CER_E_USAGE, "%s: the %s profile needs a certificate policy: give --policy OID",
			       run->profile.path, run->profile.name);
	return 0;
}

/* Run fn on every item still to be checked, on up to ISSUE_THREADS_MAX threads. */
struct parallel {
	struct issue_run *run;
	int (*fn)(struct issue_run *run, struct issue_item *it);
	atomic_size_t next;
	int *rc;
};

static void *parallel_worker(void *arg)
{
	struct parallel *p = arg;
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->run->n_items) {
		struct issue_item *it = &p->run->items[i];
		if (it->reason[0] != '\0' || it->state == ITEM_DONE_BEFORE)
			continue;
		cer_err_clear();
		p->rc[i] = p->fn(p->run, it);
		/* reason has CER_ERR_DETAIL_SIZE bytes: the detail fits whole */
		if (p->rc[i] != 0)
			text_format_cut(it->reason, sizeof(it->reason), "%s",
					cer_err_msg(p->rc[i]));
		ERR_clear_error();
	}
	return NULL;
}

static int parallel_items(struct issue_run *run, int (*fn)(struct issue_run *, struct issue_item *),
			  int *rc)
{
	struct parallel p = {run, fn, 0, rc};
	pthread_t th[ISSUE_THREADS_MAX];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int n = cores < 1 ? 1 : cores > ISSUE_THREADS_MAX ? ISSUE_THREADS_MAX : (int)cores, started = 0;

	if ((size_t)n > run->n_items)
		n = (int)run->n_items;
	for (int i = 1; i < n; i++)
		if (pthread_create(&th[i], NULL, parallel_worker, &p) == 0)
			started = i;
		else
			break;
	parallel_worker(&p);
	for (int i = 1; i <= started; i++)
		pthread_join(th[i], NULL);
	return 0;
}

static int pin_subject_matches(const struct issue_pin *pin, const X509_NAME *got, int *same)
{
	X509_NAME *want = NULL;
	int r;

	*same = 0;
	if ((r = certbuild_name_parse(pin->subject, 0, &want)) != 0)
		return r;
	*same = X509_NAME_cmp(want, got) == 0;
	X509_NAME_free(want);
	return 0;
}

/* Issue 16: the request is exactly the one agreed before the day, or it is refused. */
static int pin_check(const struct issue_item *it, const struct csr *csr)
{
	char want[512], got[512], subject[CERTBUILD_DN_MAX];
	int same, r;

	if (it->pin->has_spki && CRYPTO_memcmp(it->pin->spki, it->spki, SHA256_LEN) != 0) {
		if (readaloud_words(it->pin->spki, SHA256_LEN, SHA256_LEN, want, sizeof(want)) ||
		    readaloud_words(it->spki, SHA256_LEN, SHA256_LEN, got, sizeof(got)))
			return cer_err(CER_E_REFUSED, "%s: refused: its key is not the pinned key",
				       it->csr_path);
		return cer_err(CER_E_REFUSED,
			       "%s: refused: its key is not the pinned key: expected SPKI SHA-256 "
			       "\"%s\", the request has \"%s\"",
			       it->csr_path, want, got);
	}
	if (!it->pin->has_subject)
		return 0;
	if ((r = pin_subject_matches(it->pin, X509_REQ_get_subject_name(csr_req(csr)), &same)) != 0)
		return r;
	if (!same) {
		if (csr_subject_text(csr, subject, sizeof(subject)) != 0)
			subject[0] = '\0';
		return cer_err(CER_E_REFUSED,
			       "%s: refused: its subject is not the pinned subject: expected \"%s\", "
			       "the request has \"%s\"",
			       it->csr_path, it->pin->subject, subject);
	}
	return 0;
}

int issue_request_check(const char *path, const struct issue_pin *pin)
{
	struct issue_item it;
	struct csr *csr = NULL;
	int r;

	memset(&it, 0, sizeof(it));
	it.csr_path = (char *)path;
	it.pin = pin;
	if ((r = csr_load(path, &csr)) != 0 || (r = csr_spki_sha256(csr, it.spki)) != 0)
		goto out;
	r = pin_check(&it, csr);
out:
	csr_free(csr);
	return r;
}

/* Read the request once; its SHA-256 is of exactly these bytes. */
static int item_load(const struct issue_item *it, struct csr **csr, uint8_t md[SHA256_LEN])
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if ((r = file_read_all(it->csr_path, CSR_MAX_BYTES, &data, &len)) != 0)
		return r;
	if (EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL) != 1)
		r = cer_err_ssl(CER_E_CRYPTO, "%s: cannot hash", it->csr_path);
	else if ((r = csr_parse(data, len, it->csr_path, csr)) != 0)
		cer_err_prefix("refused: ");
	free(data);
	return r;
}

/* A rerun: the outputs are there. Ours for this request (issued or not yet recorded), or refused. */
static int item_found(struct issue_run *run, struct issue_item *it)
{
	uint8_t spki[SHA256_LEN];
	char serial[41];
	int r;

	if ((r = issue_found_cert(it, &it->found)) != 0)
		return r;
	if (X509_verify(it->found, X509_get0_pubkey(run->issuer)) != 1 ||
	    X509_NAME_cmp(X509_get_issuer_name(it->found), X509_get_subject_name(run->issuer)) != 0 ||
	    csr_cert_spki_sha256(it->found, spki) != 0 || memcmp(spki, it->spki, SHA256_LEN) != 0 ||
	    certinfo_serial_hex(it->found, serial) != 0)
		return cer_err(CER_E_EXISTS,
			       "%s: already exists and is not this request's certificate from %s; "
			       "refusing to overwrite it",
			       file_exists(it->out_path) ? it->out_path : it->chain_path,
			       run->o->issuer);
	memcpy(it->serial_hex, serial, sizeof(serial));
	it->state = history_has_serial(run->history, serial) ? ITEM_DONE_BEFORE : ITEM_UNRECORDED;
	return 0;
}

static int copy_san(X509 *cert, const struct csr *csr)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(csr_req(csr));
	int r = 0;

	for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
		if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) == NID_subject_alt_name &&
		    !X509_add_ext(cert, e, -1))
			r = cer_err_ssl(CER_E_CRYPTO, "%s: cannot copy subjectAltName", csr_name(csr));
	}
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return r;
}

/* A CA profile: keep the subject, for the batch's check of CA names (batch_ca_names). */
static int keep_ca_subject(struct issue_run *run, struct issue_item *it, const X509_NAME *subject)
{
	const unsigned char *der = NULL;
	size_t len = 0;

	if (run->profile.kind != PROFILE_CA)
		return 0;
	if (X509_NAME_get0_der(subject, &der, &len) <= 0)
		return cer_err_ssl(CER_E_CRYPTO, "cannot encode the subject");
	free(it->ca_subject);
	if ((it->ca_subject = malloc(len)) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	memcpy(it->ca_subject, der, len);
	it->ca_subject_len = len;
	return 0;
}

/* Build and lint from the checked request; the final TBS stays. Thread-safe. */
static int item_build(struct issue_run *run, struct issue_item *it, const struct csr *csr)
{
	char(*pols)[PROFILE_OID_MAX] = (char(*)[PROFILE_OID_MAX])run->o->policies;
	X509_NAME *subject = NULL;
	ASN1_INTEGER *serial = NULL;
	X509 *cert = NULL;
	uint8_t md[SHA256_LEN];
	int r;

	if (it->state == ITEM_UNRECORDED) { /* the same rules as if it were signed now */
		struct lint_input in = {it->found, run->issuer, &run->profile, pols,
					run->o->n_policies, NULL, run->cas, run->n_cas};
		if ((r = lint_cert(&in)) != 0 ||
		    (r = lint_path(it->found, run->issuer, &run->profile, pols, run->o->n_policies, 1)) != 0)
			cer_err_prefix("%s: refused: ", it->out_path);
		if (r == 0)
			r = keep_ca_subject(run, it, X509_get_subject_name(it->found));
		return r;
	}
	if (it->state != ITEM_NEW)
		return 0;
	if ((r = certbuild_serial(it->serial, &serial)) != 0)
		goto out;
	if ((r = subject_compose(&run->profile, X509_REQ_get_subject_name(csr_req(csr)), it->csr_path,
			       &subject)) != 0 ||
	    (r = certbuild_new(&run->profile, subject, csr_pubkey(csr), run->issuer, serial, pols,
			       run->o->n_policies, &cert)) != 0 ||
	    (run->profile.allow_san && (r = copy_san(cert, csr)) != 0) ||
	    (r = csr_cert_spki_sha256(cert, md)) != 0)
		goto out;
	if (memcmp(md, it->spki, sizeof(md)) != 0) { /* checked again after the signature */
		r = cer_err(CER_E_REFUSED, "%s: refused: the certificate would not carry the "
			    "request's SubjectPublicKeyInfo bytes", it->csr_path);
		goto out;
	}
	(void)X509_NAME_oneline(subject, it->subject, sizeof(it->subject));
	r = issue_lint(cert, it->csr_path, csr_pubkey(csr), run->issuer, &run->shadow,
		       &run->profile, pols, run->o->n_policies, run->alg, (size_t)run->alg_len,
		       &it->tbs, &it->tbs_len, run->cas, run->n_cas);
	if (r == 0)
		r = keep_ca_subject(run, it, subject);
out:
	X509_free(cert);
	ASN1_INTEGER_free(serial);
	X509_NAME_free(subject);
	return r;
}

/* Each request once, on both threads, before the login (the serials drawn already):
 * outputs, the request, its pin, every CSR check, then build and lint. Thread-safe. */
static int item_check(struct issue_run *run, struct issue_item *it)
{
	struct csr_policy pol = {&run->profile, run->issuer, NULL, 0}; /* known keys: below */
	struct csr *csr = NULL;
	struct csr_report rep;
	char names[256];
	int r, exists = file_exists(it->out_path) || file_exists(it->chain_path);

	if (!exists &&
	    ((r = file_check_new(it->out_path)) != 0 || (r = file_check_new(it->chain_path)) != 0))
		return r;
	if ((r = item_load(it, &csr, it->csr_sha256)) != 0 ||
	    (r = csr_spki_sha256(csr, it->spki)) != 0)
		goto out;
	if (it->pin == NULL && (run->profile.requests_pinned || run->o->n_pins > 0 || run->o->expect_file != NULL)) {
		r = cer_err(CER_E_REFUSED,
			    "%s: refused: no pinned key and subject for this request%s", it->csr_path,
			    run->profile.requests_pinned ? " (the profile requires them)" : "");
		goto out;
	}
	if (it->pin != NULL && (r = pin_check(it, csr)) != 0)
		goto out;
	if ((r = csr_check(csr, &pol, &rep)) != 0) {
		csr_report_failed_names(&rep, names, sizeof(names));
		r = cer_err(r, "%s: refused: %d check%s failed (%s)", it->csr_path, rep.n_failed,
			    rep.n_failed == 1 ? "" : "s", names);
		for (int i = 0; i < rep.n; i++)
			if (!rep.checks[i].pass) {
				r = cer_err(r, "%s: refused: %d check%s failed (%s): %s", it->csr_path,
					    rep.n_failed, rep.n_failed == 1 ? "" : "s", names,
					    rep.checks[i].msg);
				break;
			}
		goto out;
	}
	if (exists)
		r = item_found(run, it);
	if (r == 0) /* the serials are drawn: build from the request just checked */
		r = item_build(run, it, csr);
out:
	csr_free(csr);
	return r;
}

/* The profile allows the request's subjectAltName: copy it exactly (csr checked it). */
static int record_refusal(struct issue_run *run, struct issue_item *it)
{
	json_t *in = NULL, *e = NULL;

	if (file_exists(it->csr_path) && transcript_file_entry(run->tr, it->csr_path, &e) == 0)
		in = json_pack("[o]", e);
	return transcript_append(run->tr, "cert.refused", in, NULL,
				 json_pack("{s:s, s:s, s:s, s:b}", "request", it->csr_path, "profile",
					   run->profile.name, "reason", it->reason, "pinned",
					   it->pin != NULL),
				 NULL);
}

/* After a phase: an output problem stops; refusals are recorded, and then none is signed. */
static int refusals(struct issue_run *run, const int *rc)
{
	char first[CER_ERR_DETAIL_SIZE] = "";
	size_t refused = 0;
	int r;

	for (size_t i = 0; i < run->n_items; i++)
		if (rc[i] == CER_E_EXISTS || rc[i] == CER_E_IO || rc[i] == CER_E_NOMEM)
			return cer_err(rc[i], "%s", run->items[i].reason);
	for (size_t i = 0; i < run->n_items; i++) {
		struct issue_item *it = &run->items[i];
		if (rc[i] == 0)
			continue;
		if (refused++ == 0)
			memcpy(first, it->reason, sizeof(first)); /* the same size */
		if ((r = record_refusal(run, it)) != 0)
			return r;
	}
	if (refused == 0)
		return 0;
	if (run->n_items > 1)
		return cer_err(CER_E_REFUSED,
			       "%zu of %zu requests refused, so none was signed; first: %s", refused,
			       run->n_items, first);
	return cer_err(CER_E_REFUSED, "%s; nothing was signed or written", first);
}

/* Keys new to the CA (and to the batch): a hashed lookup each. */
static int keys_unique(struct issue_run *run, int *rc)
{
	int r;

	for (size_t i = 0; i < run->n_items; i++) {
		struct issue_item *it = &run->items[i];
		if (rc[i] != 0 || it->state == ITEM_DONE_BEFORE)
			continue;
		if (history_has_spki(run->history, it->spki)) {
			rc[i] = cer_err(CER_E_REFUSED,
					"%s: refused: this key is already certified by the CA",
					it->csr_path);
			text_format_cut(it->reason, sizeof(it->reason), "%s", cer_err_msg(rc[i]));
		} else if ((r = history_add_spki(run->history, it->spki)) != 0) {
			return r;
		}
		if (it->state != ITEM_UNRECORDED)
			continue;
		if (history_has_serial(run->history, it->serial_hex)) /* one of this call's draws */
			return cer_err(CER_E_REFUSED,
				       "%s: a fresh serial number equals this certificate's (%s); "
				       "nothing was signed: run the same command again",
				       it->out_path, it->serial_hex);
		if ((r = history_add_serial(run->history, it->serial_hex)) != 0)
			return r;
	}
	return 0;
}

/*
 * Two CAs of one batch may not share a subject or a CN either (lint
 * cert-ca-name-unique): each is checked against the batch's earlier ones, in
 * order, by hash first (issue_lint checked each against the history).
 */
static int batch_ca_names(struct issue_run *run, int *rc)
{
	struct lint_name_der *seen;
	size_t n = 0;
	int r = 0;

	if (run->profile.kind != PROFILE_CA)
		return 0;
	if ((seen = calloc(run->n_items, sizeof(*seen))) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (size_t i = 0; i < run->n_items; i++) {
		struct issue_item *it = &run->items[i];
		const unsigned char *p = it->ca_subject;
		X509_NAME *subject;
		if (rc[i] != 0 || it->ca_subject == NULL)
			continue;
		if ((subject = d2i_X509_NAME(NULL, &p, (long)it->ca_subject_len)) == NULL) {
			r = cer_err_ssl(CER_E_CRYPTO, "cannot decode a subject");
			break;
		}
		rc[i] = lint_ca_name_unique(subject, seen, n, "another CA of this batch");
		X509_NAME_free(subject);
		if (rc[i] != 0) {
			cer_err_prefix("%s: refused before signing: ", it->csr_path);
			text_format_cut(it->reason, sizeof(it->reason), "%s", cer_err_msg(rc[i]));
			continue;
		}
		seen[n].der = it->ca_subject;
		seen[n].len = it->ca_subject_len;
		lint_name_der_hash(&seen[n]);
		n++;
	}
	free(seen);
	return r;
}

/* Fresh serials, never used by the CA: HSM random XOR host random, many per draw. */
static int draw_serials(struct issue_run *run, struct hsm *h)
{
	struct serials_draw d;
	int r = 0;

	memset(&d, 0, sizeof(d));
	for (size_t i = 0; r == 0 && i < run->n_items; i++) {
		struct issue_item *it = &run->items[i];
		if (it->state != ITEM_NEW)
			continue;
		if ((r = serials_next(h->session, run->history, &d, it->serial, it->serial_hex)) == 0)
			r = history_add_serial(run->history, it->serial_hex);
	}
	serials_draw_end(&d);
	return r;
}

static int pins_from_file(struct issue_opts *o)
{
	uint8_t *data = NULL;
	size_t len = 0;
	char *line, *save = NULL;
	long n = 0;
	int r;

	if ((r = file_read_all(o->expect_file, 1024 * 1024, &data, &len)) != 0)
		return r;
	for (line = strtok_r((char *)data, "\n", &save); line != NULL && r == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[NAME_MAX + 1], spki[80], arg[NAME_MAX + 1 + CERTBUILD_DN_MAX + 2];
		int used = 0;
		n++;
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '#' || *line == '\0')
			continue;
		if (sscanf(line, "%255s %79s %n", name, spki, &used) != 2 || used == 0 ||
		    line[used] != '/') {
			r = cer_err(CER_E_USAGE, "%s line %ld: expected \"csr-name spki-sha256 /C=../CN=..\"",
				    o->expect_file, n);
			break;
		}
		if (snprintf(arg, sizeof(arg), "%s:%s", name, spki) >= (int)sizeof(arg) ||
		    (r = issue_pin_add(o, arg, 0)) != 0 ||
		    snprintf(arg, sizeof(arg), "%s:%s", name, line + used) >= (int)sizeof(arg) ||
		    (r = issue_pin_add(o, arg, 1)) != 0) {
			r = r != 0 ? r : cer_err(CER_E_USAGE, "%s line %ld: too long", o->expect_file, n);
			cer_err_prefix("%s line %ld: ", o->expect_file, n);
		}
	}
	free(data);
	return r;
}

int issue_pin_add(struct issue_opts *o, const char *arg, int is_subject)
{
	const char *value = arg, *colon = strchr(arg, ':');
	struct issue_pin *pin = NULL;
	char name[NAME_MAX + 1] = "";
	X509_NAME *dn = NULL;
	int r;

	if (colon != NULL && arg[0] != '/') {
		if ((size_t)(colon - arg) >= sizeof(name) || colon == arg)
			return cer_err(CER_E_USAGE, "%s: the request name is too long or empty", arg);
		memcpy(name, arg, (size_t)(colon - arg));
		value = colon + 1;
	}
	for (size_t i = 0; i < o->n_pins && pin == NULL; i++)
		if (strcmp(o->pins[i].name, name) == 0)
			pin = &o->pins[i];
	if (pin == NULL) {
		struct issue_pin *grown;
		if (o->n_pins == ISSUE_MAX_PINS)
			return cer_err(CER_E_USAGE, "more than %d pinned requests", ISSUE_MAX_PINS);
		if ((grown = realloc(o->pins, (o->n_pins + 1) * sizeof(*grown))) == NULL)
			return cer_err(CER_E_NOMEM, "out of memory");
		o->pins = grown;
		pin = &o->pins[o->n_pins++];
		memset(pin, 0, sizeof(*pin));
		memcpy(pin->name, name, strlen(name) + 1);
	}
	if (is_subject) {
		if (pin->has_subject)
			return cer_err(CER_E_USAGE, "two expected subjects for %s", name[0] ? name : "the request");
		if ((r = certbuild_name_parse(value, 0, &dn)) != 0) {
			cer_err_prefix("--expect-subject: ");
			return r;
		}
		X509_NAME_free(dn);
		if (snprintf(pin->subject, sizeof(pin->subject), "%s", value) >= (int)sizeof(pin->subject))
			return cer_err(CER_E_USAGE, "--expect-subject: too long");
		pin->has_subject = 1;
		return 0;
	}
	if (pin->has_spki)
		return cer_err(CER_E_USAGE, "two expected keys for %s", name[0] ? name : "the request");
	if (strlen(value) != 64 || hex_decode(value, 64, pin->spki, SHA256_LEN) != 0)
		return cer_err(CER_E_USAGE, "--expect-spki %s: not a SHA-256 in hex (64 digits)", value);
	pin->has_spki = 1;
	return 0;
}

/* Each pin names a request of this call (a typo must not leave a request unpinned). */
static int pins_assign(struct issue_run *run)
{
	struct issue_opts *o = (struct issue_opts *)run->o;
	int r;

	if (o->expect_file != NULL && (r = pins_from_file(o)) != 0)
		return r;
	for (size_t p = 0; p < o->n_pins; p++) {
		struct issue_pin *pin = &o->pins[p];
		size_t hits = 0;
		if (!pin->has_spki || !pin->has_subject)
			return cer_err(CER_E_USAGE, "%s: give both --expect-spki and --expect-subject",
				       pin->name[0] ? pin->name : "the request");
		for (size_t i = 0; i < run->n_items; i++) {
			struct issue_item *it = &run->items[i];
			if ((pin->name[0] == '\0' && run->n_items == 1) || strcmp(pin->name, it->name) == 0) {
				it->pin = pin;
				hits++;
			}
		}
		if (hits == 0)
			return cer_err(CER_E_USAGE, "a pin names %s, which is not a request of this call",
				       pin->name[0] ? pin->name : "no request");
	}
	return 0;
}

static int issue_setup(struct issue_run *run, struct ceremony_ctx *ctx)
{
	const struct issue_opts *o = run->o;
	int r;

	if ((r = ctx_transcript_path(ctx, "cert sign", &run->transcript_path)) != 0)
		return r;
	if ((r = profile_load(o->profile, &run->profile)) != 0)
		return r;
	if (run->profile.kind == PROFILE_ROOT)
		return cer_err(CER_E_USAGE, "%s: a root profile is for \"cert root\", not \"cert sign\"",
			       o->profile);
	if ((r = policies_check(run)) != 0 || (r = pem_load_cert(o->issuer, &run->issuer)) != 0)
		return r;
	if ((r = (o->csr_dir != NULL ? items_from_dir(run) : item_add(run, o->csr, o->out))) != 0 ||
	    (r = pins_assign(run)) != 0)
		return r;
	if ((r = history_load_beside(run->transcript_path, o->history_dir, &run->history)) != 0 ||
	    (r = issue_history_cas(run->history, &run->cas)) != 0)
		return r;
	run->n_cas = run->history->n_ca;
	if ((r = ctx_transcript_open(ctx, "cert sign", &run->tr)) != 0)
		return r;
	run->md = issue_digest_for(X509_get0_pubkey(run->issuer));
	if ((r = certsig_key_new(run->issuer, &run->sigkey)) != 0)
		return r;
	if ((r = issue_final_alg(X509_get0_pubkey(run->issuer), run->md, &run->alg, &run->alg_len)) != 0 ||
	    (r = transcript_file_entry(run->tr, o->profile, &run->profile_entry)) != 0 ||
	    (r = transcript_file_entry(run->tr, o->issuer, &run->issuer_entry)) != 0)
		return r;
	return 0;
}

/*
 * The quorum approves the final TBS before the HSM signs (docs/quorum.md): every
 * certificate's final TBS (run->items[i].tbs, for state ITEM_NEW) exists here,
 * linted, and nothing has been signed; no login has happened yet.
 */
static int issue_approve(struct issue_run *run, struct ceremony_ctx *ctx, FILE *out)
{
	return issue_quorum(ctx, run, out);
}

static int issue_check_all(struct issue_run *run, struct hsm *h, struct ceremony_ctx *ctx,
			   FILE *out)
{
	int *rc = calloc(run->n_items, sizeof(int)), r;

	if (rc == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	/* STYLE 9: every request, pin, output path and rule before the first login. The
	 * session (no login) gives the serials' randomness first, so that each request
	 * is read, parsed, checked, built and linted once. */
	if ((r = hsm_open(ctx, run->o->token, h)) != 0 || (r = draw_serials(run, h)) != 0 ||
	    (r = issue_shadow_new(run->issuer, &run->shadow)) != 0)
		goto out;
	if ((r = parallel_items(run, item_check, rc)) != 0 || (r = keys_unique(run, rc)) != 0 ||
	    (r = batch_ca_names(run, rc)) != 0 || (r = refusals(run, rc)) != 0)
		goto out;
	r = issue_approve(run, ctx, out);
out:
	free(rc);
	return r;
}

int issue_sign(struct ceremony_ctx *ctx, const struct issue_opts *o, FILE *out)
{
	struct issue_run *run;
	struct hsm h;
	int r;

	memset(&h, 0, sizeof(h));
	run = calloc(1, sizeof(*run));
	if (run == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	run->o = o;
	if ((r = issue_setup(run, ctx)) != 0 || (r = issue_check_all(run, &h, ctx, out)) != 0)
		goto out;
	r = issue_sign_all(run, ctx, &h, out);
out:
	for (size_t i = 0; i < run->n_items; i++) {
		free(run->items[i].csr_path);
		free(run->items[i].out_path);
		free(run->items[i].chain_path);
		free(run->items[i].tbs);
		free(run->items[i].ca_subject);
		X509_free(run->items[i].found);
	}
	free(run->items);
	free(run->alg);
	free(run->issuer_pem);
	json_decref(run->profile_entry);
	json_decref(run->issuer_entry);
	issue_shadow_free(&run->shadow);
	hsm_close(&h);
	transcript_close(run->tr);
	free(run->cas);
	history_free(run->history);
	certsig_key_free(run->sigkey);
	X509_free(run->issuer);
	free(run);
	return r;
}

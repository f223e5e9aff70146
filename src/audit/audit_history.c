#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/x509.h>

#include "audit_int.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/lint.h"
#include "ceremony/printout.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"

/* FNV-1a of the serial's hex, case folded (serials compare case-insensitively). */
static size_t serial_hash(const char *serial)
{
	uint64_t x = 0xcbf29ce484222325ULL;

	for (const char *c = serial; *c != '\0'; c++)
		x = (x ^ (uint64_t)tolower((unsigned char)*c)) * 0x100000001b3ULL;
	return (size_t)x;
}

/* Issue 13: a hash lookup per certificate, not a scan of the whole history. */
static const struct audit_cert *cert_find(const struct audit_history *h, const char *serial)
{
	if (h->serial_cap == 0)
		return NULL;
	for (size_t i = serial_hash(serial) & (h->serial_cap - 1);; i = (i + 1) & (h->serial_cap - 1)) {
		size_t at = h->serial_slots[i];
		if (at == 0)
			return NULL;
		if (strcasecmp(h->certs[at - 1].serial, serial) == 0)
			return &h->certs[at - 1];
	}
}

static void serial_place(size_t *slots, size_t cap, const char *serial, size_t at)
{
	size_t i = serial_hash(serial) & (cap - 1);

	while (slots[i] != 0)
		i = (i + 1) & (cap - 1);
	slots[i] = at;
}

/* Index certs[n_certs - 1] by its serial, growing the table to stay at most half full. */
static int serial_index_last(struct audit_history *h)
{
	if (2 * h->n_certs > h->serial_cap) {
		size_t cap = h->serial_cap != 0 ? 2 * h->serial_cap : 1024;
		size_t *slots = calloc(cap, sizeof(*slots));
		if (slots == NULL)
			return cer_err(CER_E_NOMEM, "out of memory");
		for (size_t i = 0; i + 1 < h->n_certs; i++)
			serial_place(slots, cap, h->certs[i].serial, i + 1);
		free(h->serial_slots);
		h->serial_slots = slots;
		h->serial_cap = cap;
	}
	serial_place(h->serial_slots, h->serial_cap, h->certs[h->n_certs - 1].serial, h->n_certs);
	return 0;
}

static const struct audit_revocation *revocation_find(const struct audit_history *h,
						      const char *serial)
{
	for (size_t i = 0; i < h->n_revoked; i++)
		if (strcasecmp(h->revoked[i].serial, serial) == 0)
			return &h->revoked[i];
	return NULL;
}

/* certs[i] (a CA) against name: the earliest clash so far is kept in *first, *how. */
static void ca_clash(const struct audit_history *h, const X509_NAME *name, size_t i, size_t *first,
		     const char **how)
{
	const struct audit_cert *o = &h->certs[i];
	const unsigned char *p = o->ca_subject_der;
	X509_NAME *other;

	if (i >= *first || (other = d2i_X509_NAME(NULL, &p, (long)o->ca_subject_der_len)) == NULL)
		return;
	if (X509_NAME_cmp(name, other) == 0 || lint_cn_same(name, other)) {
		*first = i;
		*how = X509_NAME_cmp(name, other) == 0 ? "name" : "CN";
	}
	X509_NAME_free(other);
}

static void ca_place(size_t *slots, size_t cap, unsigned long hash, size_t at)
{
	size_t i = hash & (cap - 1);

	while (slots[i] != 0)
		i = (i + 1) & (cap - 1);
	slots[i] = at;
}

/* Index certs[n_certs - 1], a CA, by its name's hashes (or list it as unhashed). */
static int ca_index_last(struct audit_history *h)
{
	size_t last = h->n_certs - 1;
	const struct lint_name_der *d = &h->certs[last].ca_name;

	if (!d->hashed) {
		size_t *grown = realloc(h->ca_unhashed, (h->n_ca_unhashed + 1) * sizeof(*grown));
		if (grown == NULL)
			return cer_err(CER_E_NOMEM, "out of memory");
		h->ca_unhashed = grown;
		h->ca_unhashed[h->n_ca_unhashed++] = last;
		return 0;
	}
	if (2 * (h->n_ca_hashed + 1) > h->ca_cap) {
		size_t cap = h->ca_cap != 0 ? 2 * h->ca_cap : 256;
		size_t *by_name = calloc(cap, sizeof(*by_name)), *by_cn = calloc(cap, sizeof(*by_cn));
		if (by_name == NULL || by_cn == NULL) {
			free(by_name);
			free(by_cn);
			return cer_err(CER_E_NOMEM, "out of memory");
		}
		for (size_t i = 0; i < last; i++) {
			const struct lint_name_der *o = &h->certs[i].ca_name;
			if (h->certs[i].ca_subject_der == NULL || !o->hashed)
				continue;
			ca_place(by_name, cap, o->subject_hash, i + 1);
			if (o->has_cn)
				ca_place(by_cn, cap, o->cn_hash, i + 1);
		}
		free(h->ca_by_name);
		free(h->ca_by_cn);
		h->ca_by_name = by_name;
		h->ca_by_cn = by_cn;
		h->ca_cap = cap;
	}
	ca_place(h->ca_by_name, h->ca_cap, d->subject_hash, last + 1);
	if (d->has_cn)
		ca_place(h->ca_by_cn, h->ca_cap, d->cn_hash, last + 1);
	h->n_ca_hashed++;
	return 0;
}

/*
 * Issue 10.2, over the whole history (replay's lint sees one transcript at a time and
 * needs the files): a CA's subject, or its CN, is no other CA's. From the recorded
 * subject_der, so it holds even when the certificates are not in the auditor's copy.
 */
static int history_ca_name(struct audit_history *h, long line, json_t *c, struct audit_cert *n)
{
	const char *hex = json_string_value(json_object_get(c, "subject_der"));
	const unsigned char *p;
	X509_NAME *name = NULL;
	size_t len = hex != NULL ? strlen(hex) : 0, first = SIZE_MAX;
	const char *how = NULL;

	if (hex == NULL || len == 0 || len % 2 != 0 || (n->ca_subject_der = malloc(len / 2)) == NULL ||
	    hex_decode(hex, len, n->ca_subject_der, len / 2) != 0)
		return cer_err(CER_E_VERIFY, "%s line %ld: the CA certificate record has no subject_der",
			       h->file, line);
	n->ca_subject_der_len = len / 2;
	n->ca_name.der = n->ca_subject_der;
	n->ca_name.len = n->ca_subject_der_len;
	lint_name_der_hash(&n->ca_name);
	p = n->ca_subject_der;
	if ((name = d2i_X509_NAME(NULL, &p, (long)n->ca_subject_der_len)) == NULL)
		return cer_err(CER_E_VERIFY, "%s line %ld: the recorded subject_der is not a name",
			       h->file, line);
	/* Issue 13: only the CAs whose name or CN hashes as this one's (or that did not
	 * hash) are decoded and compared, not every earlier CA of the history; the
	 * earliest clash is named, as a scan in order would. */
	if (!n->ca_name.hashed) {
		for (size_t i = 0; i + 1 < h->n_certs; i++)
			if (h->certs[i].ca_subject_der != NULL)
				ca_clash(h, name, i, &first, &how);
	} else {
		size_t mask = h->ca_cap - 1;
		for (size_t i = h->ca_cap != 0 ? n->ca_name.subject_hash & mask : 0;
		     h->ca_cap != 0 && h->ca_by_name[i] != 0; i = (i + 1) & mask)
			if (h->certs[h->ca_by_name[i] - 1].ca_name.subject_hash == n->ca_name.subject_hash)
				ca_clash(h, name, h->ca_by_name[i] - 1, &first, &how);
		for (size_t i = h->ca_cap != 0 ? n->ca_name.cn_hash & mask : 0;
		     n->ca_name.has_cn && h->ca_cap != 0 && h->ca_by_cn[i] != 0; i = (i + 1) & mask)
			if (h->certs[h->ca_by_cn[i] - 1].ca_name.cn_hash == n->ca_name.cn_hash)
				ca_clash(h, name, h->ca_by_cn[i] - 1, &first, &how);
		for (size_t i = 0; i < h->n_ca_unhashed; i++)
			ca_clash(h, name, h->ca_unhashed[i], &first, &how);
	}
	X509_NAME_free(name);
	if (first != SIZE_MAX)
		return cer_err(CER_E_VERIFY,
			       "%s line %ld: lint cert-ca-name-unique: the CA subject %s has the %s "
			       "of the CA certificate at %s: a CA's name is its own over the CA's "
			       "whole history",
			       h->file, line, n->subject, how, h->certs[first].where);
	return ca_index_last(h);
}

/*
 * Issue 16: was the request pinned, and does the certificate carry the pinned key?
 * The script's pins are in its ceremony.start record; a certificate issued in a
 * ceremony whose script pinned requests must carry one of the pinned keys.
 */
static int history_pin(struct audit_history *h, long line, json_t *rec, struct audit_cert *n)
{
	json_t *d = json_object_get(rec, "details"), *q;
	const char *spki = json_string_value(json_object_get(json_object_get(d, "certificate"),
								 "spki_sha256"));
	size_t i;

	if (json_array_size(h->pins) > 0) {
		json_array_foreach(h->pins, i, q)
		{
			const char *want = json_string_value(json_object_get(q, "spki_sha256"));
			if (spki != NULL && want != NULL && strcasecmp(spki, want) == 0 &&
			    json_is_true(json_object_get(d, "request_pinned"))) {
				n->pinned = "request pinned in the script, key matched";
				return 0;
			}
		}
		return cer_err(CER_E_VERIFY,
			       "%s line %ld: serial %s: its key is not one the ceremony's script pinned",
			       h->file, line, n->serial);
	}
	n->pinned = json_is_true(json_object_get(d, "request_pinned"))
			    ? "request pinned on the command line (--expect-spki), matched"
			    : "request not pinned";
	return 0;
}

/* RFC 5280 4.1.2.2: a CA never issues two certificates with one serial, over its whole life. */
static int history_cert(struct audit_history *h, long line, json_t *rec, int is_root)
{
	json_t *c = json_object_get(json_object_get(rec, "details"), "certificate");
	const char *serial = json_string_value(json_object_get(c, "serial"));
	const char *kind;
	const struct audit_cert *earlier;
	struct audit_cert *grown, *n;
	int r;

	if (serial == NULL || strlen(serial) >= AUDIT_SERIAL_MAX)
		return cer_err(CER_E_VERIFY, "%s line %ld: the certificate record has no serial",
			       h->file, line);
	earlier = cert_find(h, serial);
	if (earlier != NULL)
		return cer_err(CER_E_VERIFY,
			       "%s line %ld: serial %s was already used (%s): a serial is used once "
			       "in the CA's life",
			       h->file, line, serial, earlier->where);
	grown = realloc(h->certs, (h->n_certs + 1) * sizeof(*grown));
	if (grown == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	h->certs = grown;
	n = &h->certs[h->n_certs++];
	memset(n, 0, sizeof(*n));
	if ((r = text_copy(n->serial, sizeof(n->serial), "certificate serial", serial)) != 0 ||
	    (r = text_copy(n->subject, sizeof(n->subject), "certificate subject",
			   json_string_value(json_object_get(c, "subject")))) != 0 ||
	    (r = text_copy(n->not_after, sizeof(n->not_after), "certificate not_after",
			   json_string_value(json_object_get(c, "not_after")))) != 0 ||
	    (r = text_copy(n->profile, sizeof(n->profile), "certificate profile",
			   json_string_value(json_object_get(c, "profile")))) != 0 ||
	    (r = text_format(n->where, sizeof(n->where), "certificate record place", "%s line %ld",
			     h->file, line)) != 0 ||
	    (r = serial_index_last(h)) != 0) {
		cer_err_prefix("%s line %ld: ", h->file, line);
		return r;
	}
	n->is_root = is_root;
	if (!is_root) {
		h->now.certificates++;
	}
	/* Issue 10.2: a CA (the root, a "ca" profile) keeps its name over the whole history. */
	kind = json_string_value(json_object_get(json_object_get(rec, "details"), "profile_kind"));
	if ((is_root || (kind != NULL && strcmp(kind, "ca") == 0)) &&
	    (r = history_ca_name(h, line, c, n)) != 0)
		return r;
	if (!is_root)
		return history_pin(h, line, rec, n);
	return 0;
}

static int history_crl(struct audit_history *h, long line, json_t *rec)
{
	json_t *d = json_object_get(rec, "details"), *e;
	json_t *num = json_object_get(d, "crl_number");
	size_t i;
	int r;

	if (!json_is_integer(num))
		return cer_err(CER_E_VERIFY, "%s line %ld: the CRL record has no number", h->file,
			       line);
	/* RFC 5280 5.2.3: CRL numbers increase monotonically for the issuer. */
	if (json_integer_value(num) <= h->crl_number)
		return cer_err(CER_E_VERIFY,
			       "%s line %ld: CRL number %lld does not increase (number %lld was "
			       "issued at %s)",
			       h->file, line, (long long)json_integer_value(num), h->crl_number,
			       h->crl_where);
	h->crl_number = json_integer_value(num);
	if ((r = text_format(h->crl_where, sizeof(h->crl_where), "CRL record place", "%s line %ld",
			     h->file, line)) != 0)
		return r;
	json_array_foreach(json_object_get(d, "revoked"), i, e)
	{
		const char *serial = json_string_value(json_object_get(e, "serial"));
		struct audit_revocation *grown, *n;

		if (serial == NULL || strlen(serial) >= AUDIT_SERIAL_MAX)
			return cer_err(CER_E_VERIFY, "%s line %ld: a revocation has no serial",
				       h->file, line);
		if (revocation_find(h, serial) != NULL)
			continue; /* each CRL repeats the earlier revocations */
		grown = realloc(h->revoked, (h->n_revoked + 1) * sizeof(*grown));
		if (grown == NULL)
			return cer_err(CER_E_NOMEM, "out of memory");
		h->revoked = grown;
		n = &h->revoked[h->n_revoked++];
		if ((r = text_copy(n->serial, sizeof(n->serial), "revoked serial", serial)) != 0 ||
		    (r = text_copy(n->reason, sizeof(n->reason), "revocation reason",
				   json_string_value(json_object_get(e, "reason")))) != 0 ||
		    (r = text_format(n->where, sizeof(n->where), "revocation record place",
				     "%s line %ld", h->file, line)) != 0) {
			cer_err_prefix("%s line %ld: ", h->file, line);
			return r;
		}
	}
	h->now.crls++;
	return 0;
}

int audit_history_record(void *arg, long line, json_t *rec)
{
	struct audit_history *h = arg;
	const char *action = json_string_value(json_object_get(rec, "action"));
	json_t *d = json_object_get(rec, "details");

	h->records++;
	if (line == 1) { /* a new transcript: no pins until its script's start says so */
		json_decref(h->pins);
		h->pins = NULL;
	}
	if (strcmp(action, "ceremony.start") == 0) {
		json_decref(h->pins);
		h->pins = json_incref(json_object_get(d, "requests"));
	}
	if (strcmp(action, "cert.root") == 0)
		return history_cert(h, line, rec, 1);
	if (strcmp(action, "cert.issue") == 0)
		return history_cert(h, line, rec, 0);
	if (strcmp(action, "crl.sign") == 0)
		return history_crl(h, line, rec);
	if (strcmp(action, "witness.register") == 0)
		h->now.witnesses++;
	else if (strcmp(action, "backup.create") == 0)
		h->now.backups_created++;
	else if (strcmp(action, "backup.rekey") == 0) {
		h->now.backups_created++;
		h->now.backups_superseded++;
	} else if (strcmp(action, "backup.superseded") == 0)
		h->now.backups_superseded++;
	else if (strcmp(action, "backup.drill") == 0 || strcmp(action, "backup.recover") == 0) {
		json_t *s = json_object_get(d, "reconstitution_seconds");
		if (strcmp(action, "backup.drill") == 0)
			h->now.drills++;
		else
			h->now.recoveries++;
		h->now.last_drill_seconds = json_is_number(s) ? json_number_value(s) : -1;
		return text_copy(h->last_drill, sizeof(h->last_drill), "record time",
				 json_string_value(json_object_get(rec, "time")));
	}
	/* Any other action (steps, confirmations, media, future ones) is neutral here. */
	return 0;
}

void audit_history_free(struct audit_history *h)
{
	for (size_t i = 0; i < h->n_certs; i++)
		free(h->certs[i].ca_subject_der);
	free(h->certs);
	free(h->serial_slots);
	free(h->ca_by_name);
	free(h->ca_by_cn);
	free(h->ca_unhashed);
	free(h->revoked);
	json_decref(h->pins);
	h->certs = NULL;
	h->serial_slots = NULL;
	h->serial_cap = 0;
	h->ca_by_name = h->ca_by_cn = h->ca_unhashed = NULL;
	h->ca_cap = h->n_ca_hashed = h->n_ca_unhashed = 0;
	h->revoked = NULL;
	h->pins = NULL;
}

static void now_rfc3339(char out[TIME_TEXT_SIZE])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	if (strftime(out, TIME_TEXT_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

static void cert_line(FILE *out, const struct audit_cert *c)
{
	fprintf(out, "  serial %-40s until %.10s  ", c->serial, c->not_after);
	printout_safe(out, c->subject);
	fputs("\n      profile ", out);
	printout_safe(out, c->profile);
	fprintf(out, ", issued at %s\n", c->where);
	if (c->pinned != NULL)
		fprintf(out, "      %s\n", c->pinned);
}

void audit_history_print(const struct audit_history *h, FILE *out, long *live)
{
	char now[TIME_TEXT_SIZE];
	long expired = 0, revoked = 0;

	now_rfc3339(now);
	*live = 0;
	for (size_t i = 0; i < h->n_certs; i++) {
		if (!h->certs[i].is_root)
			continue;
		fputs("Root certificate:\n", out);
		cert_line(out, &h->certs[i]);
	}
	fputs("Live certificates (issued by the root, not revoked, not expired):\n", out);
	for (size_t i = 0; i < h->n_certs; i++) {
		const struct audit_cert *c = &h->certs[i];
		if (c->is_root)
			continue;
		/* RFC 3339 UTC texts of one length compare as times. */
		if (revocation_find(h, c->serial) != NULL)
			revoked++;
		else if (strlen(c->not_after) == strlen(now) && strcmp(c->not_after, now) <= 0)
			expired++;
		else {
			(*live)++;
			cert_line(out, c);
		}
	}
	if (*live == 0)
		fputs("  none\n", out);
	fprintf(out, "Revoked: %zu serial%s", h->n_revoked, h->n_revoked == 1 ? "" : "s");
	fprintf(out, " (%ld of the certificates above); expired: %ld\n", revoked, expired);
	for (size_t i = 0; i < h->n_revoked; i++) {
		const struct audit_revocation *rv = &h->revoked[i];
		fprintf(out, "  serial %-40s ", rv->serial);
		printout_safe(out, rv->reason);
		fprintf(out, "%s, first in the CRL at %s\n",
			cert_find(h, rv->serial) != NULL ? "" : " (not issued in this history)",
			rv->where);
	}
	fprintf(out, "Backups: %ld created, %ld superseded; drills: %ld; recoveries: %ld",
		h->total.backups_created, h->total.backups_superseded, h->total.drills,
		h->total.recoveries);
	if (h->last_drill[0] != '\0')
		fprintf(out, " (last %.10s)", h->last_drill);
	fputc('\n', out);
}

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ceremony/certinfo.h"
#include "ceremony/certsig.h"
#include "ceremony/cms.h"
#include "ceremony/csr.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/history.h"
#include "ceremony/lint.h"
#include "ceremony/pem.h"
#include "ceremony/profile.h"
#include "ceremony/replay.h"
#include "ceremony/transcript.h"
#include "ceremony/subject.h"

struct replay_state {
	const char *path;
	X509 *root;
	STACK_OF(X509) *also;      /* other roots that may issue */
	STACK_OF(X509) *new_roots; /* self-signed roots this transcript made */
	STACK_OF(X509) *crossed;   /* ... of those, the ones an accepted root cross-certified */
	FILE *out;
	struct replay_report *rep;
	struct history *seen; /* serials and CA names met so far in this transcript */
	const struct archive_view *view; /* where the recorded files are (NULL: the default) */
	/* The last profile and issuer loaded: a batch's records name the same files. */
	char prof_path[PATH_MAX], issuer_path[PATH_MAX];
	struct profile prof;
	X509 *issuer;
	struct certsig_key *issuer_key; /* its key, decoded once for the signatures */
};

static int profile_cached(struct replay_state *st, const char *path, struct profile *out)
{
	int r;

	if (st->prof_path[0] == '\0' || strcmp(st->prof_path, path) != 0) {
		st->prof_path[0] = '\0';
		if ((r = profile_load(path, &st->prof)) != 0)
			return r;
		memcpy(st->prof_path, path, strlen(path) + 1);
	}
	memcpy(out, &st->prof, sizeof(*out));
	return 0;
}

static int issuer_cached(struct replay_state *st, const char *path, X509 **out)
{
	int r;

	if (st->issuer == NULL || strcmp(st->issuer_path, path) != 0) {
		X509_free(st->issuer);
		certsig_key_free(st->issuer_key);
		st->issuer = NULL;
		st->issuer_key = NULL;
		st->issuer_path[0] = '\0';
		if ((r = pem_load_cert(path, &st->issuer)) != 0 ||
		    (r = certsig_key_new(st->issuer, &st->issuer_key)) != 0)
			return r;
		memcpy(st->issuer_path, path, strlen(path) + 1);
	}
	/* A reference, not a copy: a copy decodes the certificate and its key again
	 * (the OpenSSL 3 decoder, per certificate replayed). Nothing here changes it. */
	if (X509_up_ref(st->issuer) != 1)
		return cer_err(CER_E_NOMEM, "out of memory");
	*out = st->issuer;
	return 0;
}

/* Path of entry i of a record's inputs/outputs, or NULL if it is not there. */
static int record_file(struct replay_state *st, json_t *rec, const char *list, size_t i, char *out)
{
	json_t *e = json_array_get(json_object_get(rec, list), i);
	const char *p = json_string_value(json_object_get(e, "path"));
	int r;

	if (p == NULL)
		return cer_err(CER_E_VERIFY, "%s: record has no %s #%zu", st->path, list, i + 1);
	switch ((r = archive_resolve_entry(st->view, st->path, 0, e, out))) {
	case 0: break;
	case CER_E_REFUSED:
	case CER_E_NOTFOUND:
		cer_err_clear();
		if (st->out != NULL)
			fprintf(st->out, "  %s: %s, not followed\n", p,
				r == CER_E_REFUSED ? "leads out of the archive"
						   : "outside the archive when recorded");
		return CER_E_NOTFOUND;
	default: return r;
	}
	return file_exists(out) ? 0 : CER_E_NOTFOUND;
}

static int replay_serial(struct replay_state *st, long line, X509 *x, json_t *rec)
{
	const char *recorded = json_string_value(
		json_object_get(json_object_get(json_object_get(rec, "details"), "certificate"), "serial"));
	char hex[41];
	int r;

	if ((r = certinfo_serial_hex(x, hex)) != 0)
		return r;
	if (recorded == NULL || strcmp(recorded, hex) != 0)
		return cer_err(CER_E_VERIFY, "line %ld: the certificate's serial is not the recorded one",
			       line);
	if (history_has_serial(st->seen, hex))
		return cer_err(CER_E_VERIFY, "line %ld: serial %s was already used", line, hex);
	return history_add_serial(st->seen, hex);
}

/* A root that may issue here: the root in force, or one a rollover let go on. */
static int accepted(const struct replay_state *st, X509 *x)
{
	if (st->root == NULL || X509_cmp(x, st->root) == 0)
		return 1;
	for (int i = 0; st->also != NULL && i < sk_X509_num(st->also); i++)
		if (X509_cmp(x, sk_X509_value(st->also, i)) == 0)
			return 1;
	return 0;
}

static int in_stack(STACK_OF(X509) *s, X509 *x)
{
	for (int i = 0; s != NULL && i < sk_X509_num(s); i++)
		if (X509_cmp(x, sk_X509_value(s, i)) == 0)
			return 1;
	return 0;
}

static int push_copy(STACK_OF(X509) *s, X509 *x)
{
	X509 *c = X509_dup(x);
	if (c == NULL || !sk_X509_push(s, c)) {
		X509_free(c);
		return cer_err(CER_E_NOMEM, "out of memory");
	}
	return 0;
}

/* The CA subjects met so far in the transcript, for lint cert-ca-name-unique. */
static int replay_other_cas(struct replay_state *st, struct lint_input *in)
{
	struct lint_name_der *cas;

	if (st->seen->n_ca == 0)
		return 0;
	if ((cas = calloc(st->seen->n_ca, sizeof(*cas))) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (size_t i = 0; i < st->seen->n_ca; i++) {
		cas[i] = st->seen->ca[i].name; /* hashed when the CA was met */
	}
	in->other_cas = cas;
	in->n_other_cas = st->seen->n_ca;
	return 0;
}

static int replay_note_ca(struct replay_state *st, X509 *x)
{
	const unsigned char *der = NULL;
	size_t len = 0;
	char hex[41];
	int r;

	if ((r = certinfo_serial_hex(x, hex)) != 0)
		return r;
	if (X509_NAME_get0_der(X509_get_subject_name(x), &der, &len) <= 0)
		return cer_err_ssl(CER_E_CRYPTO, "cannot encode the subject");
	return history_add_ca(st->seen, hex, der, len);
}

enum replay_kind { REPLAY_ISSUE, REPLAY_ROOT, REPLAY_SIGNER };

/*
 * The request's subject and key. Its bytes are the recorded ones (transcript_verify
 * checks the inputs' SHA-256). When its SubjectPublicKeyInfo is the certificate's,
 * byte for byte, the key is the certificate's and is not decoded a second time (the
 * OpenSSL 3 decoder, per certificate replayed); otherwise the request is parsed in
 * full and the lint compares the two keys.
 */
static int replay_request(const char *path, X509 *x, struct csr **csr, X509_NAME **subject,
			  EVP_PKEY **key)
{
	struct csr_raw raw;
	unsigned char *spki = NULL;
	const unsigned char *q;
	int n;

	*csr = NULL;
	*subject = NULL;
	*key = NULL;
	if (X509_get0_pubkey(x) != NULL && csr_raw_load(path, &raw) == 0) {
		n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
		q = raw.subject;
		if (n > 0 && (size_t)n == raw.spki_len && memcmp(spki, raw.spki, raw.spki_len) == 0 &&
		    (*subject = d2i_X509_NAME(NULL, &q, (long)raw.subject_len)) != NULL &&
		    q == raw.subject + raw.subject_len)
			*key = X509_get0_pubkey(x);
		OPENSSL_free(spki);
		csr_raw_free(&raw);
		if (*key != NULL)
			return 0;
		X509_NAME_free(*subject);
		*subject = NULL;
	}
	cer_err_clear();
	ERR_clear_error();
	if ((n = csr_load(path, csr)) != 0)
		return n;
	if ((*subject = X509_NAME_dup(X509_REQ_get_subject_name(csr_req(*csr)))) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	*key = csr_pubkey(*csr);
	return 0;
}

static int replay_signature(long line, X509 *x, X509 *issuer, const char *cert_path)
{
	if (X509_verify(x, X509_get0_pubkey(issuer)) == 1)
		return 0;
	cer_err_clear();
	return cer_err_ssl(CER_E_VERIFY, "line %ld: %s is not signed by its issuer's key", line,
			   cert_path);
}

/* cert.issue: inputs CSR, profile, issuer; cert.root: profile; cert.signer: profile, issuer. */
static int replay_issue(struct replay_state *st, long line, json_t *rec, enum replay_kind kind)
{
	const int is_root = kind == REPLAY_ROOT, has_csr = kind == REPLAY_ISSUE;
	char cert_path[PATH_MAX], csr_path[PATH_MAX], prof_path[PATH_MAX], issuer_path[PATH_MAX];
	struct profile prof;
	struct csr *csr = NULL;
	X509_NAME *csr_subject = NULL;
	EVP_PKEY *csr_key = NULL;
	X509 *x = NULL, *issuer = NULL;
	X509_NAME *subject = NULL;
	json_t *extra = json_object_get(json_object_get(rec, "details"), "extra_policies"), *e;
	char policies[PROFILE_MAX_OIDS][PROFILE_OID_MAX];
	int n_extra = 0, r;
	size_t i;

	if ((r = record_file(st, rec, "outputs", 0, cert_path)) != 0 ||
	    (r = record_file(st, rec, "inputs", 0, has_csr ? csr_path : prof_path)) != 0 ||
	    (has_csr && (r = record_file(st, rec, "inputs", 1, prof_path)) != 0) ||
	    (!is_root && (r = record_file(st, rec, "inputs", has_csr ? 2 : 1, issuer_path)) != 0))
		goto out;
	if ((r = pem_load_cert(cert_path, &x)) != 0 || (r = profile_cached(st, prof_path, &prof)) != 0)
		goto out;
	if (is_root)
		issuer = X509_up_ref(x) == 1 ? x : NULL;
	else if ((r = issuer_cached(st, issuer_path, &issuer)) != 0 ||
		 (has_csr && (r = replay_request(csr_path, x, &csr, &csr_subject, &csr_key)) != 0))
		goto out;
	if (issuer == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	if (is_root && !accepted(st, issuer)) {
		/* A second root: acceptable only as a rollover, checked at the end. */
		if (!in_stack(st->new_roots, issuer) && (r = push_copy(st->new_roots, issuer)) != 0)
			goto out;
	} else if (!accepted(st, issuer)) {
		r = cer_err(CER_E_VERIFY, "line %ld: issued by a certificate that is not the given root%s",
			    line, in_stack(st->new_roots, issuer) ? " (a root this ceremony made: it "
								     "issues from the next ceremony on)"
							       : "");
		goto out;
	}
	/* A root's self-signature is checked here. Any other certificate's signature is
	 * checked by its path validation below (lint_path_checked: certsig verifies it
	 * with the issuer's key, decoded once, the only trust anchor): one ECDSA
	 * verification per certificate, not two (issue 13); when a lint fails, the
	 * signature is checked first to say so. */
	if (is_root && (r = replay_signature(line, x, issuer, cert_path)) != 0)
		goto out;
	json_array_foreach(extra, i, e)
	{
		const char *oid = json_string_value(e);
		if (oid != NULL && n_extra < PROFILE_MAX_OIDS && strlen(oid) < PROFILE_OID_MAX)
			memcpy(policies[n_extra++], oid, strlen(oid) + 1);
	}
	{
		struct lint_input in = {x, is_root ? NULL : issuer, &prof, policies, n_extra,
					csr_key, NULL, 0};
		if ((r = replay_other_cas(st, &in)) != 0)
			goto out;
		r = lint_cert(&in);
		free((void *)in.other_cas);
		/* The path lint cert sign ran (docs/lint.md cert-path), as of issuance. */
		if (r == 0 && !is_root)
			r = lint_path_checked(x, st->issuer_key, &prof, policies, n_extra);
		if (r != 0 && !is_root && replay_signature(line, x, issuer, cert_path) != 0) {
			r = CER_E_VERIFY; /* the signature's message, not the lint's */
			goto out;
		}
		if (r == 0 && prof.kind != PROFILE_END_ENTITY)
			r = replay_note_ca(st, x);
		if (r != 0) {
			cer_err_prefix("line %ld: %s: ", line, cert_path);
			goto out;
		}
	}
	if (csr_subject != NULL) {
		if ((r = subject_compose(&prof, csr_subject, csr_path, &subject)) != 0)
			goto out;
		if (X509_NAME_cmp(subject, X509_get_subject_name(x)) != 0) {
			r = cer_err(CER_E_VERIFY,
				    "line %ld: the subject is not what the profile makes of the CSR", line);
			goto out;
		}
	}
	/* The ceremony-signing certificate must be one that can seal, and nothing more. */
	if (kind == REPLAY_SIGNER && (r = cms_signer_check(x)) != 0) {
		cer_err_prefix("line %ld: %s: ", line, cert_path);
		goto out;
	}
	if ((r = replay_serial(st, line, x, rec)) != 0)
		goto out;
	st->rep->certificates++;
	if (st->out != NULL)
		fprintf(st->out, "  line %ld: %s replayed: signature, key, subject, profile %s ok\n",
			line,
			is_root				? "root certificate"
			: kind == REPLAY_SIGNER ? "ceremony-signing certificate"
						: "certificate",
			prof.name);
out:
	X509_NAME_free(subject);
	csr_free(csr);
	X509_NAME_free(csr_subject);
	X509_free(x);
	X509_free(issuer);
	return r;
}

/* The CRL lists exactly the recorded revocations, each with its recorded reason. */
static int replay_crl_entries(long line, X509_CRL *crl, json_t *rec)
{
	json_t *revoked = json_object_get(json_object_get(rec, "details"), "revoked"), *e;
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
	size_t i, n = revs != NULL ? (size_t)sk_X509_REVOKED_num(revs) : 0;

	if (!json_is_array(revoked) || json_array_size(revoked) != n)
		return cer_err(CER_E_VERIFY, "line %ld: the CRL does not list the recorded revocations",
			       line);
	json_array_foreach(revoked, i, e)
	{
		const char *serial = json_string_value(json_object_get(e, "serial"));
		const char *reason = json_string_value(json_object_get(e, "reason"));
		BIGNUM *bn = NULL;
		ASN1_INTEGER *ai = NULL;
		X509_REVOKED *found = NULL;
		int want, ok;

		if (serial == NULL || reason == NULL || !BN_hex2bn(&bn, serial) ||
		    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL) {
			BN_free(bn);
			return cer_err(CER_E_VERIFY, "line %ld: revocation #%zu is malformed", line, i + 1);
		}
		ok = X509_CRL_get0_by_serial(crl, &found, ai) == 1;
		ASN1_INTEGER_free(ai);
		BN_free(bn);
		want = strcmp(reason, "unspecified") == 0 ? 0 : lint_crl_reason_code(reason);
		if (!ok || found == NULL || want < 0 || lint_crl_entry_reason(found) != want)
			return cer_err(CER_E_VERIFY,
				       "line %ld: serial %s is not in the CRL with the recorded reason %s",
				       line, serial, reason);
	}
	return 0;
}

static int replay_crl(struct replay_state *st, long line, json_t *rec)
{
	char crl_path[PATH_MAX], issuer_path[PATH_MAX];
	uint8_t *data = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	X509_CRL *crl = NULL;
	X509 *issuer = NULL;
	int r;

	if ((r = record_file(st, rec, "outputs", 0, crl_path)) != 0 ||
	    (r = record_file(st, rec, "inputs", 0, issuer_path)) != 0)
		goto out;
	if ((r = pem_load_cert(issuer_path, &issuer)) != 0 ||
	    (r = file_read_all(crl_path, 16 * 1024 * 1024, &data, &len)) != 0)
		goto out;
	bio = BIO_new_mem_buf(data, (int)len);
	crl = bio != NULL ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
	if (crl == NULL || X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1 ||
	    !accepted(st, issuer)) {
		r = cer_err_ssl(CER_E_VERIFY, "line %ld: %s is not a CRL signed by the root", line,
				crl_path);
		goto out;
	}
	if ((r = lint_crl(crl, issuer)) != 0) {
		cer_err_prefix("line %ld: %s: ", line, crl_path);
		goto out;
	}
	if ((r = replay_crl_entries(line, crl, rec)) != 0)
		goto out;
	st->rep->crls++;
	if (st->out != NULL)
		fprintf(st->out, "  line %ld: CRL replayed: signature, lints, entries and reasons ok\n",
			line);
out:
	X509_CRL_free(crl);
	BIO_free(bio);
	free(data);
	X509_free(issuer);
	return r;
}

/* cert.cross: inputs profile, issuer root, subject root; output the cross certificate. */
static int replay_cross(struct replay_state *st, long line, json_t *rec)
{
	char issuer_path[PATH_MAX], subject_path[PATH_MAX], cert_path[PATH_MAX];
	X509 *issuer = NULL, *subject = NULL, *x = NULL;
	json_t *details = json_object_get(rec, "details");
	int r;

	if ((r = record_file(st, rec, "inputs", 1, issuer_path)) != 0 ||
	    (r = record_file(st, rec, "inputs", 2, subject_path)) != 0 ||
	    (r = record_file(st, rec, "outputs", 0, cert_path)) != 0)
		return r;
	if ((r = pem_load_cert(issuer_path, &issuer)) != 0 ||
	    (r = pem_load_cert(subject_path, &subject)) != 0 || (r = pem_load_cert(cert_path, &x)) != 0)
		goto out;
	if (X509_verify(x, X509_get0_pubkey(issuer)) != 1 || X509_check_issued(issuer, x) != X509_V_OK ||
	    X509_NAME_cmp(X509_get_subject_name(x), X509_get_subject_name(subject)) != 0 ||
	    EVP_PKEY_eq(X509_get0_pubkey(x), X509_get0_pubkey(subject)) != 1 || X509_check_ca(x) != 1) {
		ERR_clear_error();
		r = cer_err(CER_E_VERIFY, "line %ld: %s is not a CA certificate by %s for the key and "
					  "name of %s",
			    line, cert_path, issuer_path, subject_path);
		goto out;
	}
	if (!accepted(st, issuer) && !in_stack(st->new_roots, issuer)) {
		r = cer_err(CER_E_VERIFY, "line %ld: cross certificate by a root that is neither the "
					  "root in force nor one this ceremony made",
			    line);
		goto out;
	}
	/* A cross certificate links the root in force and a root this ceremony made, one way
	 * or the other: one for any other key is a CA certificate the history never made. */
	if (!(accepted(st, issuer) && in_stack(st->new_roots, subject)) &&
	    !(in_stack(st->new_roots, issuer) && accepted(st, subject))) {
		r = cer_err(CER_E_VERIFY, "line %ld: cross certificate for %s, which is not a root "
					  "this ceremony made (nor, for a link certificate, the root in "
					  "force)",
			    line, subject_path);
		goto out;
	}
	if ((r = replay_serial(st, line, x, rec)) != 0)
		goto out;
	if (accepted(st, issuer) && in_stack(st->new_roots, subject) && !in_stack(st->crossed, subject)) {
		if (sk_X509_num(st->crossed) > 0) {
			r = cer_err(CER_E_VERIFY, "line %ld: a second new root cross-certified in one "
						  "ceremony: a rollover makes one new root",
				    line);
			goto out;
		}
		if ((r = push_copy(st->crossed, subject)) != 0)
			goto out;
		if (strlen(subject_path) < sizeof(st->rep->new_root))
			memcpy(st->rep->new_root, subject_path, strlen(subject_path) + 1);
		st->rep->old_root_may_issue = json_is_true(json_object_get(details, "old_root_may_issue"));
	}
	st->rep->cross++;
	if (st->out != NULL)
		fprintf(st->out, "  line %ld: cross certificate replayed: issuer, subject, key, CA ok\n",
			line);
out:
	X509_free(issuer);
	X509_free(subject);
	X509_free(x);
	return r;
}

static int replay_cb(void *arg, long line, json_t *rec)
{
	struct replay_state *st = arg;
	const char *action = json_string_value(json_object_get(rec, "action"));
	int r = 0;

	if (action == NULL)
		return 0;
	if (strcmp(action, "cert.issue") == 0)
		r = replay_issue(st, line, rec, REPLAY_ISSUE);
	else if (strcmp(action, "cert.root") == 0)
		r = replay_issue(st, line, rec, REPLAY_ROOT);
	else if (strcmp(action, "cert.signer") == 0)
		r = replay_issue(st, line, rec, REPLAY_SIGNER);
	else if (strcmp(action, "crl.sign") == 0)
		r = replay_crl(st, line, rec);
	else if (strcmp(action, "cert.cross") == 0)
		r = replay_cross(st, line, rec);
	if (r == CER_E_NOTFOUND) {
		st->rep->not_present++;
		if (st->out != NULL)
			fprintf(st->out, "  line %ld: %s not replayed: its files are not present\n",
				line, action);
		return 0;
	}
	if (r != 0)
		cer_err_prefix("%s ", st->path);
	return r;
}

int replay_transcript_roots(const char *path, X509 *root, STACK_OF(X509) *also, FILE *out,
			    struct replay_report *rep)
{
	return replay_transcript_history(path, NULL, root, also, out, rep);
}

int replay_transcript_history(const char *path, const struct archive_view *view, X509 *root,
			      STACK_OF(X509) *also, FILE *out, struct replay_report *rep)
{
	return replay_records_history(path, NULL, view, root, also, out, rep);
}

int replay_records_history(const char *path, json_t *records, const struct archive_view *view,
			   X509 *root, STACK_OF(X509) *also, FILE *out, struct replay_report *rep)
{
	struct replay_state st;
	int r;

	memset(rep, 0, sizeof(*rep));
	memset(&st, 0, sizeof(st));
	st.path = path;
	st.view = view;
	st.root = root;
	st.also = also;
	st.out = out;
	st.rep = rep;
	st.seen = calloc(1, sizeof(*st.seen));
	st.new_roots = sk_X509_new_null();
	st.crossed = sk_X509_new_null();
	if (st.seen == NULL || st.new_roots == NULL || st.crossed == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	r = transcript_each_records(path, records, replay_cb, &st);
	/* A second root stands only as a rollover: cross-certified by the root in force. */
	for (int i = 0; r == 0 && i < sk_X509_num(st.new_roots); i++)
		if (!in_stack(st.crossed, sk_X509_value(st.new_roots, i))) {
			char name[256];
			X509_NAME_oneline(X509_get_subject_name(sk_X509_value(st.new_roots, i)), name,
					  sizeof(name));
			r = cer_err(CER_E_VERIFY, "%s: a second root (%s) that no cert.cross by the root "
						  "in force certifies: a root changes only by a rollover",
				    path, name);
		}
out:
	X509_free(st.issuer);
	certsig_key_free(st.issuer_key);
	history_free(st.seen);
	sk_X509_pop_free(st.new_roots, X509_free);
	sk_X509_pop_free(st.crossed, X509_free);
	return r;
}

int replay_transcript(const char *path, X509 *root, FILE *out, struct replay_report *rep)
{
	return replay_transcript_roots(path, root, NULL, out, rep);
}

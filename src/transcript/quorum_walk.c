/* quorum: walking a history's records in order (see quorum.h). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ceremony/encode.h"
#include "ceremony/archive.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/history.h"
#include "ceremony/quorum.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"

#define QUORUM_MAX_TRANSCRIPTS 4096
#define QUORUM_CERT_MAX_BYTES (256 * 1024)
#define QUORUM_SPKI_MAX 1024

void quorum_state_init(struct quorum_state *st)
{
	memset(st, 0, sizeof(*st));
}

void quorum_state_free(struct quorum_state *st)
{
	for (size_t i = 0; i < st->n_officers; i++)
		EVP_PKEY_free(st->officers[i].key);
	free(st->officers);
	json_decref(st->approved);
	memset(st, 0, sizeof(*st));
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}

int quorum_state_begin(struct quorum_state *st, const char *path)
{
	st->path = path;
	st->root_here = 0;
	json_decref(st->approved);
	st->approved = json_array();
	return text_copy(st->file, sizeof(st->file), "transcript file name", base_name(path));
}

static int hex32(json_t *v, uint8_t out[SHA256_LEN])
{
	const char *s = json_string_value(v);
	return s != NULL && strlen(s) == 64 && hex_decode(s, 64, out, SHA256_LEN) == 0 ? 0 : -1;
}

static int fault(const struct quorum_state *st, long line, int code, const char *what)
{
	return cer_err(code, "%s line %ld: %s", st->file, line, what);
}

/* An approved set of this transcript for op that covers tbs; its item in *item. */
static json_t *approved_find(const struct quorum_state *st, enum quorum_op op,
			     const uint8_t tbs[SHA256_LEN], json_t **item)
{
	size_t i, j;
	json_t *a, *it;

	json_array_foreach(st->approved, i, a)
	{
		if (strcmp(json_string_value(json_object_get(a, "operation")), quorum_op_name(op)) != 0)
			continue;
		json_array_foreach(json_object_get(a, "items"), j, it)
		{
			uint8_t md[SHA256_LEN];
			if (hex32(json_object_get(it, "tbs_sha256"), md) == 0 &&
			    CRYPTO_memcmp(md, tbs, SHA256_LEN) == 0) {
				*item = it;
				return a;
			}
		}
	}
	return NULL;
}

static int approvers_note(struct quorum_state *st, json_t *approvals)
{
	size_t i;
	json_t *a;
	int r;

	json_array_foreach(approvals, i, a)
	{
		const char *role = json_string_value(json_object_get(a, "role"));
		char pat[QUORUM_ROLE_MAX + 3];
		char padded[sizeof(st->approvers_seen) + 2];
		if (role == NULL)
			continue;
		if ((r = text_format(pat, sizeof(pat), "an approver's role", ",%s,", role)) != 0 ||
		    (r = text_format(padded, sizeof(padded), "the approvers seen", ",%s,",
				     st->approvers_seen)) != 0)
			return r;
		for (char *p = padded; *p != '\0'; p++)
			if (*p == ' ')
				*p = ',';
		if (strstr(padded, pat) != NULL)
			continue;
		if ((r = text_append(st->approvers_seen, sizeof(st->approvers_seen),
				     "the approvers seen", "%s%s", st->approvers_seen[0] ? " " : "",
				     role)) != 0)
			return r;
	}
	return 0;
}

/* The subject a quorum.approve record states, rebuilt from its own items. */
static int subject_from_record(const struct quorum_state *st, long line, json_t *rec, json_t *q,
			       struct quorum_subject *s)
{
	json_t *items = json_object_get(q, "items"), *it;
	uint8_t(*tbs)[SHA256_LEN] = NULL, (*csr)[SHA256_LEN] = NULL, recorded[SHA256_LEN];
	size_t i, n = json_array_size(items);
	int r = 0, all_csr = 1;

	memset(s, 0, sizeof(*s));
	if (quorum_op_parse(json_string_value(json_object_get(q, "operation")) != NULL
				    ? json_string_value(json_object_get(q, "operation"))
				    : "",
			    &s->op) != 0 ||
	    n == 0 || n > QUORUM_MAX_ITEMS || hex32(json_object_get(q, "tbs_sha256"), recorded) != 0)
		return fault(st, line, CER_E_VERIFY, "quorum.approve record is malformed");
	tbs = calloc(n, SHA256_LEN);
	csr = calloc(n, SHA256_LEN);
	if (tbs == NULL || csr == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(items, i, it)
	{
		if (hex32(json_object_get(it, "tbs_sha256"), tbs[i]) != 0) {
			r = fault(st, line, CER_E_VERIFY, "quorum.approve item is malformed");
			goto out;
		}
		if (hex32(json_object_get(it, "csr_sha256"), csr[i]) != 0)
			all_csr = 0;
	}
	s->n_items = n;
	quorum_combine((const uint8_t(*)[SHA256_LEN])tbs, n, s->tbs_sha256);
	if (CRYPTO_memcmp(s->tbs_sha256, recorded, SHA256_LEN) != 0) {
		r = fault(st, line, CER_E_VERIFY,
			  "quorum.approve: tbs_sha256 is not the hash of its own items' list");
		goto out;
	}
	if (all_csr) {
		s->has_csr = 1;
		quorum_combine((const uint8_t(*)[SHA256_LEN])csr, n, s->csr_sha256);
	}
	s->has_profile = hex32(json_object_get(q, "profile_sha256"), s->profile_sha256) == 0;
	if ((r = text_copy(s->ceremony, sizeof(s->ceremony), "ceremony id",
			   json_string_value(json_object_get(rec, "ceremony")))) != 0)
		goto out;
	s->position = (long)json_integer_value(json_object_get(rec, "seq"));
out:
	free(tbs);
	free(csr);
	return r;
}

static int on_approve(struct quorum_state *st, long line, json_t *rec)
{
	json_t *q = json_object_get(json_object_get(rec, "details"), "quorum");
	struct quorum_subject s;
	int r;

	if ((r = subject_from_record(st, line, rec, q, &s)) != 0)
		return r;
	if (!st->has_policy)
		return fault(st, line, CER_E_VERIFY, "approvals recorded before any quorum policy");
	if ((r = quorum_approvals_check(st, &s, json_object_get(q, "approvals"))) != 0) {
		cer_err_prefix("%s line %ld: %s: ", st->file, line, quorum_op_name(s.op));
		return CER_E_VERIFY;
	}
	st->approvals_sets++;
	if ((r = approvers_note(st, json_object_get(q, "approvals"))) != 0)
		return r;
	return json_array_append_new(st->approved,
				     json_pack("{s:s, s:O, s:O, s:I}", "operation",
					       quorum_op_name(s.op), "items",
					       json_object_get(q, "items"), "profile_sha256",
					       json_object_get(q, "profile_sha256"), "line",
					       (json_int_t)line)) == 0
		       ? 0
		       : cer_err(CER_E_NOMEM, "out of memory");
}

static int officer_add(struct quorum_state *st, long line, json_t *rec)
{
	json_t *w = json_object_get(json_object_get(rec, "details"), "witness");
	const char *spki_hex = json_string_value(json_object_get(w, "spki"));
	json_t *card = json_object_get(w, "card"), *key = json_object_get(w, "key"), *item;
	struct quorum_officer o, *grown;
	uint8_t der[QUORUM_SPKI_MAX], md[SHA256_LEN];
	const unsigned char *p = der;
	size_t hexlen = spki_hex != NULL ? strlen(spki_hex) : 0;
	unsigned int mdlen = 0;
	int r;

	memset(&o, 0, sizeof(o));
	if (hex32(json_object_get(w, "spki_sha256"), o.spki_sha256) != 0 ||
	    json_string_value(json_object_get(w, "role")) == NULL || hexlen == 0 ||
	    hexlen % 2 != 0 || hexlen / 2 > sizeof(der) ||
	    hex_decode(spki_hex, hexlen, der, hexlen / 2) != 0)
		return fault(st, line, CER_E_VERIFY, "witness.register record is malformed");
	if (!EVP_Digest(der, hexlen / 2, md, &mdlen, EVP_sha256(), NULL) ||
	    CRYPTO_memcmp(md, o.spki_sha256, SHA256_LEN) != 0)
		return fault(st, line, CER_E_VERIFY,
			     "the registered key does not hash to its spki_sha256");
	o.key = d2i_PUBKEY(NULL, &p, (long)(hexlen / 2));
	if (o.key == NULL || EVP_PKEY_get_base_id(o.key) != EVP_PKEY_EC) {
		EVP_PKEY_free(o.key);
		return fault(st, line, CER_E_VERIFY, "the registered key is not an EC public key");
	}
	if ((r = text_copy(o.role, sizeof(o.role), "officer role",
			   json_string_value(json_object_get(w, "role")))) != 0 ||
	    (r = text_copy(o.name, sizeof(o.name), "officer name",
			   json_string_value(json_object_get(w, "name")))) != 0 ||
	    (r = text_copy(o.card_label, sizeof(o.card_label), "card label",
			   json_string_value(json_object_get(card, "label")))) != 0 ||
	    (r = text_copy(o.card_serial, sizeof(o.card_serial), "card serial",
			   json_string_value(json_object_get(card, "serial")))) != 0 ||
	    (r = text_copy(o.key_label, sizeof(o.key_label), "key label",
			   json_string_value(json_object_get(key, "label")))) != 0 ||
	    (r = text_format(o.where, sizeof(o.where), "officer record place", "%s line %ld",
			     st->file, line)) != 0) {
		EVP_PKEY_free(o.key);
		cer_err_prefix("%s line %ld: ", st->file, line);
		return r;
	}
	/* Under a policy, a new officer needs the quorum's approval of its key. */
	o.unapproved = st->has_policy &&
		       approved_find(st, QOP_OFFICER_REGISTER, o.spki_sha256, &item) == NULL;
	grown = realloc(st->officers, (st->n_officers + 1) * sizeof(*grown));
	if (grown == NULL) {
		EVP_PKEY_free(o.key);
		return cer_err(CER_E_NOMEM, "out of memory");
	}
	st->officers = grown;
	st->officers[st->n_officers++] = o;
	return 0;
}

static int on_retire(struct quorum_state *st, long line, json_t *rec)
{
	json_t *q = json_object_get(json_object_get(rec, "details"), "quorum_retire"), *item;
	uint8_t md[SHA256_LEN];
	int found = 0;

	if (hex32(json_object_get(q, "spki_sha256"), md) != 0)
		return fault(st, line, CER_E_VERIFY, "quorum.retire record is malformed");
	if (!st->has_policy || approved_find(st, QOP_OFFICER_RETIRE, md, &item) == NULL)
		return fault(st, line, CER_E_VERIFY,
			     "an officer was retired without the quorum's approval (officer-retire)");
	for (size_t i = 0; i < st->n_officers; i++)
		if (CRYPTO_memcmp(st->officers[i].spki_sha256, md, SHA256_LEN) == 0 &&
		    st->officers[i].retired[0] == '\0') {
			int r =
			    text_format(st->officers[i].retired, sizeof(st->officers[i].retired),
					"retirement place", "%s line %ld", st->file, line);
			if (r != 0)
				return r;
			found = 1;
		}
	return found ? 0 : fault(st, line, CER_E_VERIFY, "retires a key that is not registered");
}

static int on_policy(struct quorum_state *st, long line, json_t *rec)
{
	json_t *q = json_object_get(json_object_get(rec, "details"), "quorum_policy"), *item;
	struct quorum_policy p;
	uint8_t recorded[SHA256_LEN];
	int r;

	if ((r = quorum_policy_from_json(st->file, json_object_get(q, "policy"), &p)) != 0) {
		cer_err_prefix("line %ld: ", line);
		return CER_E_VERIFY;
	}
	if (hex32(json_object_get(q, "policy_sha256"), recorded) != 0 ||
	    CRYPTO_memcmp(recorded, p.sha256, SHA256_LEN) != 0)
		return fault(st, line, CER_E_VERIFY,
			     "quorum.policy: policy_sha256 is not the hash of the policy recorded");
	if (!st->has_policy && !st->root_here)
		return fault(st, line, CER_E_VERIFY,
			     "the first quorum policy must be fixed in the root key generation "
			     "ceremony (the one that makes the root certificate)");
	if (st->has_policy && approved_find(st, QOP_POLICY_CHANGE, p.sha256, &item) == NULL)
		return fault(st, line, CER_E_VERIFY,
			     "the quorum policy was changed without the approval of the quorum then "
			     "in force (policy-change)");
	st->policy = p;
	st->has_policy = 1;
	return text_format(st->policy_where, sizeof(st->policy_where), "policy place",
			   "%s line %ld", st->file, line);
}

/* SHA-256 of a certificate's or CRL's own TBS, read from the file the record names. */
static int output_tbs(const struct quorum_state *st, json_t *rec, int is_crl,
		      uint8_t md[SHA256_LEN], int *present)
{
	json_t *entry = json_array_get(json_object_get(rec, "outputs"), 0);
	const char *rel = json_string_value(json_object_get(entry, "path"));
	char path[PATH_MAX];
	uint8_t *pem = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	unsigned int mdlen = 0;
	BIO *b = NULL;
	X509 *x = NULL;
	X509_CRL *crl = NULL;
	int n = -1, r;

	*present = 0;
	if (rel == NULL)
		return CER_E_VERIFY;
	r = archive_resolve_entry(NULL, st->path, 0, entry, path);
	if (r == CER_E_REFUSED || r == CER_E_NOTFOUND) {
		cer_err_clear(); /* outside the archive: not followed, so not checked */
		return 0;
	}
	if (r != 0)
		return CER_E_VERIFY;
	if (!file_exists(path))
		return 0;
	*present = 1;
	if ((r = file_read_all(path, QUORUM_CERT_MAX_BYTES, &pem, &len)) != 0)
		return r;
	b = BIO_new_mem_buf(pem, (int)len);
	if (b != NULL && is_crl && (crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL)
		n = i2d_re_X509_CRL_tbs(crl, &der);
	else if (b != NULL && !is_crl && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		n = i2d_re_X509_tbs(x, &der);
	r = n > 0 && EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) ? 0 : CER_E_VERIFY;
	OPENSSL_free(der);
	X509_free(x);
	X509_CRL_free(crl);
	BIO_free(b);
	free(pem);
	return r;
}

static int input_sha256(json_t *rec, size_t i, uint8_t md[SHA256_LEN])
{
	return hex32(json_object_get(json_array_get(json_object_get(rec, "inputs"), i), "sha256"), md);
}

/* A certificate or CRL signed while a policy is in force needs approvals of its TBS. */
static int on_signed(struct quorum_state *st, long line, json_t *rec, int is_crl)
{
	json_t *d = json_object_get(rec, "details"), *a, *item = NULL;
	const char *kind = json_string_value(json_object_get(d, "profile_kind"));
	enum quorum_op op = is_crl ? QOP_CRL_SIGN
			    : kind != NULL && strcmp(kind, "end-entity") == 0 ? QOP_ISSUE_EE
									      : QOP_ISSUE_CA;
	const char *what = is_crl ? "the CRL" : "the certificate";
	uint8_t tbs[SHA256_LEN], md[SHA256_LEN], want[SHA256_LEN];
	int present = 0;

	if (!st->has_policy)
		return 0;
	if (output_tbs(st, rec, is_crl, tbs, &present) != 0)
		return cer_err(CER_E_VERIFY, "%s line %ld: cannot read %s's TBS", st->file, line,
			       what);
	if (!present) {
		st->unchecked_ops++;
		return 0;
	}
	a = approved_find(st, op, tbs, &item);
	if (a == NULL)
		return cer_err(CER_E_VERIFY,
			       "%s line %ld: %s (%s) carries no approvals of its own TBS: no earlier "
			       "quorum.approve in this ceremony approves these bytes",
			       st->file, line, what, quorum_op_name(op));
	if (!is_crl) {
		/* The approved request and profile are the ones the record names. */
		if (input_sha256(rec, 0, md) != 0 ||
		    hex32(json_object_get(item, "csr_sha256"), want) != 0 ||
		    CRYPTO_memcmp(md, want, SHA256_LEN) != 0)
			return cer_err(CER_E_VERIFY,
				       "%s line %ld: the certificate's request is not the one approved "
				       "(line %lld)",
				       st->file, line,
				       (long long)json_integer_value(json_object_get(a, "line")));
		if (input_sha256(rec, 1, md) != 0 ||
		    hex32(json_object_get(a, "profile_sha256"), want) != 0 ||
		    CRYPTO_memcmp(md, want, SHA256_LEN) != 0)
			return cer_err(CER_E_VERIFY,
				       "%s line %ld: the certificate's profile is not the one approved "
				       "(line %lld)",
				       st->file, line,
				       (long long)json_integer_value(json_object_get(a, "line")));
	}
	st->approved_ops++;
	return 0;
}

/* A rollover's cross certificate (cert.cross) is a CA certificate by the root: its TBS
 * needs issue-ca approvals; its first input is the profile (there is no request). */
static int on_cross(struct quorum_state *st, long line, json_t *rec)
{
	json_t *a, *item = NULL;
	uint8_t tbs[SHA256_LEN], md[SHA256_LEN], want[SHA256_LEN];
	int present = 0;

	if (!st->has_policy)
		return 0;
	if (output_tbs(st, rec, 0, tbs, &present) != 0)
		return cer_err(CER_E_VERIFY, "%s line %ld: cannot read the cross certificate's TBS",
			       st->file, line);
	if (!present) {
		st->unchecked_ops++;
		return 0;
	}
	a = approved_find(st, QOP_ISSUE_CA, tbs, &item);
	if (a == NULL)
		return cer_err(CER_E_VERIFY,
			       "%s line %ld: the cross certificate (issue-ca) carries no approvals of "
			       "its own TBS: no earlier quorum.approve in this ceremony approves these "
			       "bytes",
			       st->file, line);
	if (input_sha256(rec, 0, md) != 0 || hex32(json_object_get(a, "profile_sha256"), want) != 0 ||
	    CRYPTO_memcmp(md, want, SHA256_LEN) != 0)
		return cer_err(CER_E_VERIFY,
			       "%s line %ld: the cross certificate's profile is not the one approved",
			       st->file, line);
	st->approved_ops++;
	return 0;
}

/*
 * A backup operation carries its approvals in its own record (details.quorum),
 * over the SHA-256 of the blob it wrote (create, rekey) or recovered from.
 */
static int on_backup(struct quorum_state *st, long line, json_t *rec, enum quorum_op op,
		     int blob_is_input)
{
	json_t *q = json_object_get(json_object_get(rec, "details"), "quorum");
	json_t *blob = json_array_get(json_object_get(rec, blob_is_input ? "inputs" : "outputs"), 0);
	struct quorum_subject s;
	uint8_t md[SHA256_LEN], want[SHA256_LEN];
	int r;

	if (!st->has_policy)
		return 0;
	if (!json_is_object(q))
		return cer_err(CER_E_VERIFY, "%s line %ld: the backup operation (%s) carries no "
					     "approvals",
			       st->file, line, quorum_op_name(op));
	if ((r = subject_from_record(st, line, rec, q, &s)) != 0)
		return r;
	if (s.op != op)
		return cer_err(CER_E_VERIFY, "%s line %ld: its approvals are for %s, not %s", st->file,
			       line, quorum_op_name(s.op), quorum_op_name(op));
	if (hex32(json_object_get(blob, "sha256"), md) != 0 ||
	    hex32(json_object_get(json_array_get(json_object_get(q, "items"), 0), "tbs_sha256"),
		  want) != 0 ||
	    json_array_size(json_object_get(q, "items")) != 1 ||
	    CRYPTO_memcmp(md, want, SHA256_LEN) != 0)
		return cer_err(CER_E_VERIFY,
			       "%s line %ld: the approvals are for another blob than the one the "
			       "record names",
			       st->file, line);
	if ((r = quorum_approvals_check(st, &s, json_object_get(q, "approvals"))) != 0) {
		cer_err_prefix("%s line %ld: %s: ", st->file, line, quorum_op_name(op));
		return CER_E_VERIFY;
	}
	st->approvals_sets++;
	st->approved_ops++;
	return approvers_note(st, json_object_get(q, "approvals"));
}

int quorum_state_record(void *arg, long line, json_t *rec)
{
	struct quorum_state *st = arg;
	const char *action = json_string_value(json_object_get(rec, "action"));

	if (action == NULL)
		return 0;
	if (strcmp(action, "cert.root") == 0) {
		st->root_here = 1;
		return 0;
	}
	if (strcmp(action, "witness.register") == 0)
		return officer_add(st, line, rec);
	if (strcmp(action, "quorum.approve") == 0)
		return on_approve(st, line, rec);
	if (strcmp(action, "quorum.policy") == 0)
		return on_policy(st, line, rec);
	if (strcmp(action, "quorum.retire") == 0)
		return on_retire(st, line, rec);
	if (strcmp(action, "cert.issue") == 0)
		return on_signed(st, line, rec, 0);
	if (strcmp(action, "crl.sign") == 0)
		return on_signed(st, line, rec, 1);
	if (strcmp(action, "cert.cross") == 0)
		return on_cross(st, line, rec);
	if (strcmp(action, "backup.create") == 0)
		return on_backup(st, line, rec, QOP_BACKUP_CREATE, 0);
	if (strcmp(action, "backup.rekey") == 0)
		return on_backup(st, line, rec, QOP_BACKUP_REKEY, 0);
	if (strcmp(action, "backup.recover") == 0 || strcmp(action, "backup.drill") == 0)
		return on_backup(st, line, rec, QOP_BACKUP_RECOVER, 1);
	return 0;
}

/* What a byte search finds among a transcript's records' actions. */
struct action_marks {
	int quorum;    /* a quorum.* or witness.register record */
	int root;      /* a cert.root record */
	int abandoned; /* a ceremony.abandoned record */
};

struct dated {
	char path[PATH_MAX];
	char first_time[HISTORY_FIRST_TIME_MAX];
	struct action_marks marks;
};

static int first_time_cb(void *arg, long line, json_t *rec)
{
	struct dated *d = arg;
	const char *action = json_string_value(json_object_get(rec, "action"));
	int r;

	if (line == 1 && (r = text_copy(d->first_time, sizeof(d->first_time), "record time",
					json_string_value(json_object_get(rec, "time")))) != 0)
		return r;
	if (action != NULL && strcmp(action, "ceremony.abandoned") == 0)
		d->marks.abandoned = 1;
	return 0;
}

static int by_time(const void *a, const void *b)
{
	const struct dated *x = a, *y = b;
	int c = strcmp(x->first_time, y->first_time);
	return c != 0 ? c : strcmp(x->path, y->path);
}

static int has_action(const uint8_t *data, size_t len, const char *pattern)
{
	return memmem(data, len, pattern, strlen(pattern)) != NULL;
}

/* A whole-buffer search per rare action (glibc's memmem runs through megabytes
 * fast); one search for every "action": and a look at each would stop 5,000 times. */
static void action_marks_scan(const uint8_t *data, size_t len, struct action_marks *m)
{
	memset(m, 0, sizeof(*m));
	m->quorum = has_action(data, len, "\"action\":\"quorum.") ||
		    has_action(data, len, "\"action\":\"witness.register\"");
	m->root = has_action(data, len, "\"action\":\"cert.root\"");
	m->abandoned = has_action(data, len, "\"action\":\"ceremony.abandoned\"");
}

static int action_marks_read(const char *path, struct action_marks *m)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if ((r = file_read_all(path, TRANSCRIPT_MAX_BYTES, &data, &len)) != 0)
		return r;
	action_marks_scan(data, len, m);
	free(data);
	return 0;
}

/*
 * Before any policy, only quorum.* and witness.register records change the state
 * (signing records count only under a policy): a transcript holding neither is
 * skipped after a plain search of its bytes, not parsed (issue 13: a call's cost
 * must not grow with the history). Its chain is verified by whoever read it first
 * (history_load, audit). known: that search's result when the caller made it
 * (list_dated reads each file once), else NULL.
 */
static int quorum_relevant(struct quorum_state *st, const char *path,
			   const struct action_marks *known, int *relevant)
{
	struct action_marks m;
	int r;

	*relevant = 1;
	if (st->has_policy)
		return 0;
	if (known == NULL && (r = action_marks_read(path, &m)) != 0)
		return r;
	if (known != NULL)
		m = *known;
	*relevant = m.quorum;
	/* What a skipped transcript would have set: whether it made a root certificate. */
	if (!*relevant && m.root)
		st->root_here = 1;
	return 0;
}

static int walk_one(struct quorum_state *st, const char *path, const struct action_marks *known)
{
	int relevant, r;

	if ((r = quorum_state_begin(st, path)) != 0)
		return r;
	if ((r = quorum_relevant(st, path, known, &relevant)) != 0 || !relevant)
		return r;
	return transcript_each(path, quorum_state_record, st);
}

/* The time of a transcript's first record, from its first line alone; its marks. */
static int first_time(struct dated *d)
{
	char line[8192];
	json_t *rec;
	FILE *f = fopen(d->path, "r");
	int r = 0;

	if (f == NULL)
		return cer_err(CER_E_IO, "%s: cannot open: %s", d->path, strerror(errno));
	if (fgets(line, sizeof(line), f) == NULL ||
	    (rec = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL)) == NULL) {
		fclose(f);
		r = transcript_each(d->path, first_time_cb, d); /* says what is wrong, if anything */
	} else {
		fclose(f);
		r = first_time_cb(d, 1, rec);
		json_decref(rec);
	}
	if (r == 0) { /* abandoned: its record may be anywhere; a byte search, no parse */
		int parsed_abandoned = d->marks.abandoned;
		r = action_marks_read(d->path, &d->marks);
		d->marks.abandoned |= parsed_abandoned;
	}
	return r;
}

/* Is known the history of dir (the same folder, however named)? */
static int same_folder(const struct history *known, const char *dir)
{
	char a[PATH_MAX], b[PATH_MAX];

	return known != NULL && known->dir != NULL && realpath(known->dir, a) != NULL &&
	       realpath(dir, b) != NULL && strcmp(a, b) == 0;
}

/* A sealed transcript's facts as history_load found them, in the same call: its bytes
 * were read, hashed and chain-verified there (or its index entry was), and a sealed
 * transcript never changes. Any other transcript is read again here. */
static int facts_known(const struct history *known, struct dated *d)
{
	const struct history_file *f = history_file_find(known, base_name(d->path));

	if (f == NULL || !f->sealed || !f->known)
		return 0;
	memcpy(d->first_time, f->first_time, sizeof(d->first_time));
	d->marks.quorum = (f->marks & HISTORY_MARK_QUORUM) != 0;
	d->marks.root = (f->marks & HISTORY_MARK_ROOT) != 0;
	d->marks.abandoned = (f->marks & HISTORY_MARK_ABANDONED) != 0;
	return 1;
}

static int list_dated(const char *dir, const struct history *known, struct dated **out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	*out = NULL;
	*n = 0;
	if (d == NULL)
		return errno == ENOENT ? 0
				       : cer_err(CER_E_IO, "%s: cannot read the folder: %s", dir,
						 strerror(errno));
	while ((de = readdir(d)) != NULL && r == 0) {
		size_t len = strlen(de->d_name);
		struct dated *grown;
		if (len < 7 || strcmp(de->d_name + len - 6, ".jsonl") != 0)
			continue;
		if (*n == QUORUM_MAX_TRANSCRIPTS) {
			r = cer_err(CER_E_INPUT, "%s: too many transcripts", dir);
			break;
		}
		grown = realloc(*out, (*n + 1) * sizeof(*grown));
		if (grown == NULL) {
			r = cer_err(CER_E_NOMEM, "out of memory");
			break;
		}
		*out = grown;
		memset(&grown[*n], 0, sizeof(grown[*n]));
		if (snprintf(grown[*n].path, sizeof(grown[*n].path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(grown[*n].path))
			r = cer_err(CER_E_INPUT, "%s: path too long", dir);
		(*n)++;
	}
	closedir(d);
	if (!same_folder(known, dir))
		known = NULL;
	for (size_t i = 0; i < *n && r == 0; i++)
		if (known == NULL || !facts_known(known, &(*out)[i]))
			r = first_time(&(*out)[i]);
	if (r == 0 && *n > 1)
		qsort(*out, *n, sizeof(**out), by_time);
	return r;
}

int quorum_state_load(struct quorum_state *st, const char *dir, const char *current)
{
	return quorum_state_load_known(st, dir, current, NULL);
}

int quorum_state_load_known(struct quorum_state *st, const char *dir, const char *current,
			    const struct history *known)
{
	struct dated *files = NULL;
	char cur_real[PATH_MAX], real[PATH_MAX];
	size_t n = 0;
	int r, current_seen = 0, have_cur;

	have_cur = current != NULL && realpath(current, cur_real) != NULL;
	if ((r = list_dated(dir, known, &files, &n)) != 0)
		goto out;
	/* The current transcript is walked last, whatever its first record's time: what the
	 * state says about "here" (root_here) must be about it, not about a transcript
	 * (an abandoned attempt, say) that began in the same second. */
	for (size_t i = 0; i < n; i++) {
		if (have_cur && realpath(files[i].path, real) != NULL && strcmp(real, cur_real) == 0) {
			current_seen = 1;
			continue;
		}
		if (files[i].marks.abandoned)
			continue; /* audit lists it apart; it approves and fixes nothing */
		if ((r = walk_one(st, files[i].path, &files[i].marks)) != 0)
			goto out;
	}
	(void)current_seen;
	if (have_cur && (r = walk_one(st, current, NULL)) != 0)
		goto out;
	r = 0;
out:
	if (r != 0)
		cer_err_prefix("the history's quorum record is broken: ");
	free(files);
	return r;
}

int quorum_check_transcript(struct quorum_state *st, const char *path, FILE *out)
{
	long sets = st->approvals_sets, ops = st->approved_ops, unchecked = st->unchecked_ops;
	int had = st->has_policy, r;

	if ((r = walk_one(st, path, NULL)) != 0) {
		if (out != NULL)
			fprintf(out, "     quorum FAULT: %s\n", cer_err_msg(r));
		return r;
	}
	if (out == NULL)
		return 0;
	if (!had && st->has_policy)
		fprintf(out, "     quorum policy fixed (%s)\n", st->policy_where);
	if (st->approvals_sets > sets)
		fprintf(out,
			"     quorum \u2713 %ld approval set%s checked; %ld root operation%s approved "
			"(from %s own bytes)%s\n",
			st->approvals_sets - sets, st->approvals_sets - sets == 1 ? "" : "s",
			st->approved_ops - ops, st->approved_ops - ops == 1 ? "" : "s",
			st->approved_ops - ops == 1 ? "its" : "their",
			st->unchecked_ops > unchecked ? " (some files not present: not checked)" : "");
	return 0;
}

void quorum_report(const struct quorum_state *st, FILE *out)
{
	if (!st->has_policy) {
		fprintf(out, "Quorum: no quorum policy in this history: nobody's approval is "
			     "recorded or checked.\n");
		return;
	}
	fprintf(out,
		"Quorum: policy of %s; %ld root operation%s approved (certificates and CRLs from "
		"their own TBS, backups from their blob), %ld approval set%s by %s",
		st->policy_where, st->approved_ops, st->approved_ops == 1 ? "" : "s",
		st->approvals_sets, st->approvals_sets == 1 ? "" : "s",
		st->approvers_seen[0] != '\0' ? st->approvers_seen : "nobody");
	if (st->unchecked_ops > 0)
		fprintf(out, "; %ld not checked (their files are not present)", st->unchecked_ops);
	fprintf(out, ".\n");
}

struct chain_link {
	char previous[PATH_MAX]; /* "" for the first ceremony */
};

static int previous_cb(void *arg, long line, json_t *rec)
{
	struct chain_link *l = arg;
	json_t *prev = json_object_get(json_object_get(rec, "details"), "previous");
	const char *action = json_string_value(json_object_get(rec, "action"));

	if (line == 1 && action != NULL && strcmp(action, "ceremony.begin") == 0)
		return text_copy(l->previous, sizeof(l->previous), "previous transcript path",
				 json_string_value(json_object_get(prev, "path")));
	return 0;
}

int quorum_verify_transcript(const char *transcript, FILE *out)
{
	struct quorum_state st;
	char (*chain)[PATH_MAX] = calloc(QUORUM_MAX_TRANSCRIPTS, PATH_MAX);
	size_t n = 0;
	int r = 0;

	quorum_state_init(&st);
	if (chain == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	/* Back along ceremony.begin's previous links: the history before this ceremony. */
	r = text_copy(chain[n++], PATH_MAX, "transcript path", transcript);
	while (r == 0) {
		struct chain_link l = {""};
		if ((r = transcript_each(chain[n - 1], previous_cb, &l)) != 0 || l.previous[0] == '\0')
			break;
		if (n == QUORUM_MAX_TRANSCRIPTS) {
			r = cer_err(CER_E_INPUT, "%s: more than %d ceremonies before it", transcript,
				    QUORUM_MAX_TRANSCRIPTS);
			break;
		}
		if ((r = transcript_record_path(chain[n - 1], l.previous, chain[n], PATH_MAX)) != 0)
			break;
		if (!file_exists(chain[n])) {
			/* A copy whose transcripts' folder has another name: a ceremony's previous
			 * one is its sibling. */
			const char *slash = strrchr(chain[n - 1], '/'), *base = strrchr(l.previous, '/');
			if ((r = text_format(chain[n], PATH_MAX, "the previous transcript's path",
					     "%.*s%s",
					     slash != NULL ? (int)(slash - chain[n - 1] + 1) : 0,
					     chain[n - 1], base != NULL ? base + 1 : l.previous)) != 0)
				break;
		}
		if (!file_exists(chain[n])) {
			if (out != NULL)
				fprintf(out, "Quorum: %s (the previous ceremony) is not here: approvals "
					     "are checked from the transcripts present only\n",
					chain[n]);
			break;
		}
		n++;
	}
	for (size_t i = n; r == 0 && i > 1; i--)
		r = walk_one(&st, chain[i - 1], NULL);
	if (r == 0)
		r = quorum_check_transcript(&st, transcript, out);
	if (r == 0 && out != NULL) {
		if (st.has_policy)
			fprintf(out,
				"Quorum: policy of %s; %ld root operation%s up to here approved from %s "
				"own bytes\n",
				st.policy_where, st.approved_ops, st.approved_ops == 1 ? "" : "s",
				st.approved_ops == 1 ? "its" : "their");
		else
			fprintf(out, "Quorum: no quorum policy in this transcript's history\n");
	}
	quorum_state_free(&st);
	free(chain);
	return r;
}

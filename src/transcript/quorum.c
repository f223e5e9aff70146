#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/quorum.h"
#include "ceremony/sizes.h"
#include "ceremony/yamljson.h"

static const char *const op_names[QOP_COUNT] = {
	"issue-ca",	"issue-ee",	    "crl-sign",	      "backup-create",	"backup-rekey",
	"backup-recover", "officer-register", "officer-retire", "policy-change",
};

const char *quorum_op_name(enum quorum_op op)
{
	return (unsigned)op < QOP_COUNT ? op_names[op] : "?";
}

int quorum_op_parse(const char *name, enum quorum_op *out)
{
	for (int i = 0; i < QOP_COUNT; i++)
		if (strcmp(name, op_names[i]) == 0) {
			*out = (enum quorum_op)i;
			return 0;
		}
	return cer_err(CER_E_INPUT, "\"%.40s\" is not an operation (issue-ca, issue-ee, crl-sign, "
				    "backup-create, backup-rekey, backup-recover, officer-register, "
				    "officer-retire, policy-change)",
		       name);
}

int quorum_role_matches(const char *role, const char *cls)
{
	size_t n = strlen(cls);

	if (strcmp(role, cls) == 0)
		return 1;
	if (strncmp(role, cls, n) != 0 || role[n] == '\0')
		return 0;
	for (const char *p = role + n; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

static int role_ok(const char *role)
{
	size_t len = strlen(role);

	if (len == 0 || len > QUORUM_ROLE_MAX)
		return 0;
	for (const char *p = role; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return 0;
	return 1;
}

/* A count given as a YAML string or a JSON integer. */
static int count_value(json_t *v, int *out)
{
	const char *s = json_string_value(v);
	char *end = NULL;
	long n;

	if (json_is_integer(v)) {
		n = (long)json_integer_value(v);
	} else if (s != NULL && s[0] != '\0') {
		n = strtol(s, &end, 10);
		if (*end != '\0')
			return -1;
	} else {
		return -1;
	}
	if (n < 1 || n > QUORUM_MAX_APPROVALS)
		return -1;
	*out = (int)n;
	return 0;
}

static int rule_from_json(const char *name, const char *op, json_t *v, struct quorum_rule *r)
{
	size_t i;
	json_t *c;
	int total = 0;

	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > QUORUM_MAX_CLAUSES)
		return cer_err(CER_E_INPUT,
			       "%s: %s: give 1 to %d clauses [{role: KE, approvals: 2}, ...]", name,
			       op, QUORUM_MAX_CLAUSES);
	json_array_foreach(v, i, c)
	{
		const char *role = json_string_value(json_object_get(c, "role"));
		if (!json_is_object(c) || json_object_size(c) != 2 || role == NULL || !role_ok(role) ||
		    count_value(json_object_get(c, "approvals"), &r->c[i].need) != 0)
			return cer_err(CER_E_INPUT,
				       "%s: %s: clause %zu must be {role: ROLE, approvals: 1..%d}",
				       name, op, i + 1, QUORUM_MAX_APPROVALS);
		for (size_t j = 0; j < i; j++)
			if (strcmp(r->c[j].role, role) == 0)
				return cer_err(CER_E_INPUT, "%s: %s: role %s given twice", name, op,
					       role);
		memcpy(r->c[i].role, role, strlen(role) + 1);
		total += r->c[i].need;
	}
	r->n = (int)json_array_size(v);
	if (total > QUORUM_MAX_APPROVALS)
		return cer_err(CER_E_INPUT, "%s: %s: more than %d approvals in all", name, op,
			       QUORUM_MAX_APPROVALS);
	return 0;
}

int quorum_policy_from_json(const char *name, json_t *doc, struct quorum_policy *out)
{
	json_t *ops = json_object_get(doc, "operations"), *canon;
	const char *fmt = json_string_value(json_object_get(doc, "format"));
	const char *key;
	json_t *v;
	char *text;
	unsigned int mdlen = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(doc) || !json_is_object(ops))
		return cer_err(CER_E_INPUT, "%s: a quorum policy has \"operations:\"", name);
	if (fmt != NULL && strcmp(fmt, QUORUM_POLICY_FORMAT) != 0)
		return cer_err(CER_E_INPUT, "%s: format %.40s is not %s", name, fmt,
			       QUORUM_POLICY_FORMAT);
	json_object_foreach(doc, key, v)
	{
		if (strcmp(key, "operations") != 0 && strcmp(key, "format") != 0)
			return cer_err(CER_E_INPUT, "%s: unknown key \"%.40s\"", name, key);
	}
	json_object_foreach(ops, key, v)
	{
		enum quorum_op op = QOP_COUNT;
		if ((r = quorum_op_parse(key, &op)) != 0) {
			cer_err_prefix("%s: ", name);
			return r;
		}
		if ((r = rule_from_json(name, key, v, &out->rules[op])) != 0)
			return r;
	}
	for (int i = 0; i < QOP_COUNT; i++)
		if (out->rules[i].n == 0)
			return cer_err(CER_E_INPUT,
				       "%s: operation %s has no rule: every operation must be listed",
				       name, op_names[i]);
	canon = quorum_policy_json(out);
	text = canon != NULL ? json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
			     : NULL;
	json_decref(canon);
	if (text == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	r = EVP_Digest(text, strlen(text), out->sha256, &mdlen, EVP_sha256(), NULL)
		    ? 0
		    : cer_err_ssl(CER_E_CRYPTO, "cannot hash the policy");
	free(text);
	return r;
}

int quorum_policy_load(const char *path, struct quorum_policy *out)
{
	json_t *doc = NULL;
	int r;

	if ((r = yamljson_load(path, QUORUM_POLICY_MAX_BYTES, &doc)) != 0)
		return r;
	r = quorum_policy_from_json(path, doc, out);
	json_decref(doc);
	return r;
}

json_t *quorum_policy_json(const struct quorum_policy *p)
{
	json_t *ops = json_object(), *doc;

	for (int i = 0; ops != NULL && i < QOP_COUNT; i++) {
		json_t *clauses = json_array();
		for (int j = 0; clauses != NULL && j < p->rules[i].n; j++)
			json_array_append_new(clauses,
					      json_pack("{s:s, s:i}", "role", p->rules[i].c[j].role,
							"approvals", p->rules[i].c[j].need));
		json_object_set_new(ops, op_names[i], clauses);
	}
	doc = json_pack("{s:s, s:o}", "format", QUORUM_POLICY_FORMAT, "operations", ops);
	return doc;
}

void quorum_rule_text(const struct quorum_rule *r, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < r->n && used < size; i++) {
		int n = snprintf(out + used, size - used, "%s%d of %s", i > 0 ? " and " : "",
				 r->c[i].need, r->c[i].role);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

static int cmp32(const void *a, const void *b)
{
	return memcmp(a, b, SHA256_LEN);
}

void quorum_combine(const uint8_t (*hashes)[SHA256_LEN], size_t n, uint8_t out[SHA256_LEN])
{
	uint8_t(*sorted)[SHA256_LEN];
	unsigned int mdlen = 0;

	if (n == 1) {
		memcpy(out, hashes[0], SHA256_LEN);
		return;
	}
	sorted = malloc(n * 32 + 1);
	if (sorted == NULL) {
		memset(out, 0, SHA256_LEN); /* matches nothing a card signed */
		return;
	}
	memcpy(sorted, hashes, n * 32);
	qsort(sorted, n, SHA256_LEN, cmp32);
	if (!EVP_Digest(sorted, n * 32, out, &mdlen, EVP_sha256(), NULL))
		memset(out, 0, SHA256_LEN);
	free(sorted);
}

static json_t *hex_or_null(int has, const uint8_t md[SHA256_LEN])
{
	char hex[SHA256_HEX_SIZE];

	if (!has)
		return json_null();
	hex_encode(md, SHA256_LEN, hex);
	return json_string(hex);
}

static json_t *statement_json(const struct quorum_subject *s, const char *role,
			      const uint8_t signer[SHA256_LEN])
{
	return json_pack("{s:s, s:o, s:s, s:I, s:s, s:I, s:o, s:s, s:o, s:o}", "ceremony",
			 s->ceremony, "csr_sha256", hex_or_null(s->has_csr, s->csr_sha256), "format",
			 QUORUM_STATEMENT_FORMAT, "items", (json_int_t)s->n_items, "operation",
			 quorum_op_name(s->op), "position", (json_int_t)s->position,
			 "profile_sha256", hex_or_null(s->has_profile, s->profile_sha256), "role",
			 role, "signer_spki_sha256", hex_or_null(1, signer), "tbs_sha256",
			 hex_or_null(1, s->tbs_sha256));
}

int quorum_statement(const struct quorum_subject *s, const char *role,
		     const uint8_t signer_spki_sha256[SHA256_LEN], char **out)
{
	json_t *o = statement_json(s, role, signer_spki_sha256);

	/* Canonical: sorted keys, no spaces, ASCII only (docs/quorum.md). */
	*out = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
	json_decref(o);
	return *out != NULL ? 0 : cer_err(CER_E_INPUT, "cannot encode the approval statement");
}

const struct quorum_officer *quorum_officer_by_role(const struct quorum_state *st,
						    const char *role)
{
	const struct quorum_officer *found = NULL;

	for (size_t i = 0; i < st->n_officers; i++)
		if (strcmp(st->officers[i].role, role) == 0 && st->officers[i].retired[0] == '\0')
			found = &st->officers[i];
	return found;
}

static const struct quorum_officer *officer_by_spki(const struct quorum_state *st,
						    const uint8_t md[SHA256_LEN])
{
	const struct quorum_officer *found = NULL;

	for (size_t i = 0; i < st->n_officers; i++)
		if (CRYPTO_memcmp(st->officers[i].spki_sha256, md, SHA256_LEN) == 0)
			found = &st->officers[i];
	return found;
}

/* Which field of a statement differs from the expected one, for the message. */
static const char *statement_diff(const char *got, const char *want)
{
	json_t *g = json_loads(got, 0, NULL), *w = json_loads(want, 0, NULL);
	static const char *const fields[] = {"tbs_sha256", "operation",      "csr_sha256",
					     "profile_sha256", "ceremony",  "position",
					     "items",	   "role",	     "signer_spki_sha256",
					     "format"};
	const char *which = "its encoding";

	for (size_t i = 0; g != NULL && w != NULL && i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!json_equal(json_object_get(g, fields[i]), json_object_get(w, fields[i]))) {
			which = fields[i];
			break;
		}
	if (g == NULL)
		which = "it is not JSON";
	json_decref(g);
	json_decref(w);
	return which;
}

static int signature_check(const struct quorum_officer *o, const char *statement,
			   const char *sig_hex)
{
	uint8_t sig[QUORUM_SIG_MAX];
	size_t hexlen = sig_hex != NULL ? strlen(sig_hex) : 0;
	EVP_MD_CTX *c;
	int ok;

	if (hexlen == 0 || hexlen % 2 != 0 || hexlen / 2 > sizeof(sig) ||
	    hex_decode(sig_hex, hexlen, sig, hexlen / 2) != 0)
		return 0;
	c = EVP_MD_CTX_new();
	ok = c != NULL && EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, o->key) == 1 &&
	     EVP_DigestVerify(c, sig, hexlen / 2, (const unsigned char *)statement,
			      strlen(statement)) == 1;
	EVP_MD_CTX_free(c);
	return ok;
}

/* One approval: statement, signer, registration, signature. */
static int approval_check(const struct quorum_state *st, const struct quorum_subject *s,
			  json_t *a, size_t idx, const struct quorum_officer **signer)
{
	const char *role = json_string_value(json_object_get(a, "role"));
	const char *spki_hex = json_string_value(json_object_get(a, "signer_spki_sha256"));
	const char *stmt = json_string_value(json_object_get(a, "statement"));
	const char *sig = json_string_value(json_object_get(a, "signature"));
	const struct quorum_officer *o;
	uint8_t spki[SHA256_LEN];
	char *want = NULL;
	int r;

	if (role == NULL || spki_hex == NULL || stmt == NULL || sig == NULL ||
	    strlen(spki_hex) != 64 || hex_decode(spki_hex, 64, spki, SHA256_LEN) != 0 ||
	    !role_ok(role))
		return cer_err(CER_E_VERIFY, "approval %zu is malformed", idx + 1);
	o = officer_by_spki(st, spki);
	if (o == NULL)
		return cer_err(CER_E_VERIFY,
			       "approval %zu (%s): key %.16s... is not a registered officer's (not "
			       "registered, or registered only after this approval)",
			       idx + 1, role, spki_hex);
	if (strcmp(o->role, role) != 0)
		return cer_err(CER_E_VERIFY,
			       "approval %zu claims role %s, but its key is registered for %s (%s)",
			       idx + 1, role, o->role, o->where);
	if (o->retired[0] != '\0')
		return cer_err(CER_E_VERIFY, "approval %zu: %s's key was retired (%s)", idx + 1, role,
			       o->retired);
	if (o->unapproved)
		return cer_err(CER_E_VERIFY,
			       "approval %zu: %s's key was registered (%s) while a quorum policy was "
			       "in force, without the quorum's approval",
			       idx + 1, role, o->where);
	if ((r = quorum_statement(s, role, spki, &want)) != 0)
		return r;
	if (strcmp(stmt, want) != 0) {
		r = cer_err(CER_E_VERIFY,
			    "approval %zu by %s is for other bytes or another operation (%s differs)",
			    idx + 1, role, statement_diff(stmt, want));
		free(want);
		return r;
	}
	free(want);
	if (!signature_check(o, stmt, sig))
		return cer_err(CER_E_VERIFY, "approval %zu by %s: the signature does not verify with "
					     "the registered key",
			       idx + 1, role);
	*signer = o;
	return 0;
}

/* Each approver counts for one clause: the first whose role it matches and that still needs one. */
int quorum_rule_check(const struct quorum_rule *rule, const struct quorum_officer *const *signers,
		      size_t n, enum quorum_op op)
{
	int got[QUORUM_MAX_CLAUSES] = {0};
	char want[160], list[256] = "";
	size_t used = 0;

	for (size_t i = 0; i < n; i++) {
		int n2 = snprintf(list + used, sizeof(list) - used, "%s%s", i > 0 ? ", " : "",
				  signers[i]->role);
		if (n2 > 0 && (size_t)n2 < sizeof(list) - used)
			used += (size_t)n2;
		for (int c = 0; c < rule->n; c++)
			if (got[c] < rule->c[c].need &&
			    quorum_role_matches(signers[i]->role, rule->c[c].role)) {
				got[c]++;
				break;
			}
	}
	for (int c = 0; c < rule->n; c++)
		if (got[c] < rule->c[c].need) {
			quorum_rule_text(rule, want, sizeof(want));
			return cer_err(CER_E_REFUSED,
				       "%s needs approvals of %s; %zu approver%s (%s) give%s only %d "
				       "of %s",
				       quorum_op_name(op), want, n, n == 1 ? "" : "s",
				       n == 0 ? "none" : list, n == 1 ? "s" : "", got[c],
				       rule->c[c].role);
		}
	return 0;
}

int quorum_approvals_check(const struct quorum_state *st, const struct quorum_subject *s,
			   json_t *approvals)
{
	const struct quorum_officer *signers[QUORUM_MAX_APPROVALS];
	size_t n = json_array_size(approvals), i;
	json_t *a;
	int r;

	if (!st->has_policy)
		return cer_err(CER_E_VERIFY, "approvals without a quorum policy in force");
	if (!json_is_array(approvals) || n > QUORUM_MAX_APPROVALS)
		return cer_err(CER_E_VERIFY, "the approvals are not a list of at most %d",
			       QUORUM_MAX_APPROVALS);
	json_array_foreach(approvals, i, a)
	{
		if ((r = approval_check(st, s, a, i, &signers[i])) != 0)
			return r;
		for (size_t j = 0; j < i; j++) {
			if (signers[j] == signers[i])
				return cer_err(CER_E_REFUSED, "%s approves twice (approvals %zu and %zu)",
					       signers[i]->role, j + 1, i + 1);
			if (strcmp(signers[j]->name, signers[i]->name) == 0)
				return cer_err(CER_E_REFUSED,
					       "the same person (%s) approves twice, as %s and as %s",
					       signers[i]->name, signers[j]->role, signers[i]->role);
		}
	}
	return quorum_rule_check(&st->policy.rules[s->op], signers, n, s->op);
}

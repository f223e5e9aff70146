/*
 * Unit tests of lint: a good CA certificate, end entity and CRL pass; then, for
 * every rule docs/lint.md lists, one certificate or CRL that breaks exactly that
 * rule makes it fire by name ("lint NAME: ..."). The test cases are named after
 * the rules; tests/integration/test_lint.sh checks that every rule has one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/conf.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "ceremony/err.h"
#include "ceremony/lint.h"
#include "ceremony/profile.h"

#define POLICY "1.3.6.1.4.1.99999.1"
#define DAY (24L * 3600)

static EVP_PKEY *root_key, *sub_key, *other_key;
static X509 *root;

/* What a test certificate looks like; the defaults make a good CA certificate. */
struct spec {
	const char *subject;     /* "C=DE,O=T,CN=Sub" style, comma separated; "" for empty */
	const char *issuer_name; /* NULL: the root's subject */
	long not_before_days, not_after_days;
	const char *serial_hex; /* NULL: 16 random-looking octets */
	long serial;		/* used when serial_hex is "int" */
	const char *exts[10];	/* X509V3 conf lines "name=value"; NULL-terminated */
	EVP_PKEY *signer;	/* NULL: the root's key */
	long version;		/* 0: v3 */
};

static const struct spec ca_spec = {
	"C=DE,O=T,CN=Sub CA", NULL, 0, 365, NULL, 0,
	{"basicConstraints=critical,CA:TRUE,pathlen:0", "keyUsage=critical,keyCertSign,cRLSign",
	 "certificatePolicies=" POLICY, "subjectKeyIdentifier=hash",
	 "authorityKeyIdentifier=keyid:always", NULL},
	NULL, 0,
};

static void ca_profile(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "ca");
	p->kind = PROFILE_CA;
	p->ca = 1;
	p->path_len = 0;
	p->key_usage = KU_KEY_CERT_SIGN | KU_CRL_SIGN;
	p->n_policies = 1;
	snprintf(p->policies[0], PROFILE_OID_MAX, POLICY);
	p->policies_required = 1;
	p->aki = 1;
}

static void name_add(X509_NAME *n, const char *text)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", text);
	for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		assert_non_null(eq);
		*eq = '\0';
		assert_true(X509_NAME_add_entry_by_txt(n, tok, MBSTRING_UTF8,
						       (const unsigned char *)eq + 1, -1, -1, 0));
	}
}

static void add_ext(X509 *x, X509 *issuer, const char *line)
{
	char buf[512];
	char *eq;
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	CONF *conf = NCONF_new(NULL);
	static const char sections[] = "[pol]\npolicyIdentifier=" POLICY "\nCPS.1=http://cps.example\n";
	BIO *b = BIO_new_mem_buf(sections, -1);
	long errline;

	assert_true(NCONF_load_bio(conf, b, &errline) > 0);
	snprintf(buf, sizeof(buf), "%s", line);
	eq = strchr(buf, '=');
	assert_non_null(eq);
	*eq = '\0';
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509V3_set_nconf(&ctx, conf);
	e = X509V3_EXT_nconf(conf, &ctx, buf, eq + 1);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
	NCONF_free(conf);
	BIO_free(b);
}

static X509 *make(const struct spec *s, EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *subj = X509_NAME_new(), *iss = X509_NAME_new();
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial;

	assert_true(X509_set_version(x, s->version != 0 ? s->version : X509_VERSION_3));
	if (s->serial_hex != NULL && strcmp(s->serial_hex, "int") == 0) {
		serial = ASN1_INTEGER_new();
		assert_true(ASN1_INTEGER_set(serial, s->serial));
	} else {
		assert_true(BN_hex2bn(&bn, s->serial_hex != NULL ? s->serial_hex
								  : "5A0B1C2D3E4F50617283940A1B2C3D4E"));
		serial = BN_to_ASN1_INTEGER(bn, NULL);
	}
	assert_true(X509_set_serialNumber(x, serial));
	if (s->subject[0] != '\0')
		name_add(subj, s->subject);
	assert_true(X509_set_subject_name(x, subj));
	if (s->issuer_name != NULL)
		name_add(iss, s->issuer_name);
	assert_true(X509_set_issuer_name(x, s->issuer_name != NULL ? iss
								    : X509_get_subject_name(root)));
	assert_non_null(X509_time_adj_ex(X509_getm_notBefore(x), (int)s->not_before_days, -60, NULL));
	assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), (int)s->not_after_days, 0, NULL));
	assert_true(X509_set_pubkey(x, key));
	for (int i = 0; s->exts[i] != NULL; i++)
		add_ext(x, root, s->exts[i]);
	assert_true(X509_sign(x, s->signer != NULL ? s->signer : root_key, EVP_sha256()) > 0);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	X509_NAME_free(subj);
	X509_NAME_free(iss);
	return x;
}

static int setup(void **state)
{
	struct spec rs = {"C=DE,O=T,CN=Root", NULL, 0, 3650, NULL, 0,
			  {"basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign",
			   "subjectKeyIdentifier=hash", NULL},
			  NULL, 0};
	(void)state;
	root_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	sub_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	other_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(root_key);
	root = X509_new(); /* make() reads the root's subject: a stub first */
	{
		X509_NAME *n = X509_NAME_new();
		name_add(n, "C=DE,O=T,CN=Root");
		X509_set_subject_name(root, n);
		X509_NAME_free(n);
	}
	{
		X509 *self = make(&rs, root_key);
		X509_free(root);
		root = self;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	X509_free(root);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(sub_key);
	EVP_PKEY_free(other_key);
	return 0;
}

/* Lint x as a certificate of profile p; the error must name `want` (or pass if NULL). */
static void expect_cert(X509 *x, const struct profile *p, const struct lint_input *extra,
			const char *want)
{
	struct lint_input in = {x, root, p, NULL, 0, sub_key, NULL, 0};
	char prefix[96];
	int r;

	if (extra != NULL) {
		in.extra_policies = extra->extra_policies;
		in.n_extra = extra->n_extra;
		in.expected_key = extra->expected_key;
		in.other_cas = extra->other_cas;
		in.n_other_cas = extra->n_other_cas;
	}
	r = lint_cert(&in);
	if (r == 0 && strcmp(want != NULL ? want : "", "cert-path") == 0)
		r = lint_path(x, root, p, in.extra_policies, in.n_extra, 1);
	if (want == NULL) {
		if (r != 0)
			fail_msg("expected a pass, got: %s", cer_err_msg(r));
		assert_int_equal(lint_path(x, root, p, in.extra_policies, in.n_extra, 1), 0);
		return;
	}
	snprintf(prefix, sizeof(prefix), "lint %s: ", want);
	assert_int_equal(r, CER_E_REFUSED);
	if (strstr(cer_err_msg(r), prefix) == NULL)
		fail_msg("expected %s, got: %s", want, cer_err_msg(r));
	cer_err_clear();
}

/* The default CA spec with extension i replaced by line (NULL: removed). */
static struct spec with_ext(int i, const char *line)
{
	struct spec s = ca_spec;
	int n = 0;

	while (s.exts[n] != NULL)
		n++;
	if (line != NULL)
		s.exts[i] = line;
	else {
		for (int k = i; k < n; k++)
			s.exts[k] = s.exts[k + 1];
	}
	return s;
}

static void run_cert(const struct spec *s, const struct profile *p, const struct lint_input *extra,
		     const char *want)
{
	X509 *x = make(s, sub_key);
	expect_cert(x, p, extra, want);
	X509_free(x);
}

static void test_good_ca_and_end_entity_pass(void **state)
{
	struct profile p;
	struct spec ee = ca_spec;

	(void)state;
	ca_profile(&p);
	run_cert(&ca_spec, &p, NULL, NULL);
	ee.subject = "C=DE,O=T,CN=MASA";
	ee.exts[0] = "basicConstraints=critical,CA:FALSE";
	ee.exts[1] = "keyUsage=critical,digitalSignature";
	p.kind = PROFILE_END_ENTITY;
	p.ca = 0;
	p.path_len = -1;
	p.key_usage = KU_DIGITAL_SIGNATURE;
	run_cert(&ee, &p, NULL, NULL);
}

#define CERT_CASE(fname, lint, body)                       \
	static void fname(void **state)                    \
	{                                                  \
		struct profile p;                          \
		struct spec s = ca_spec;                   \
		struct lint_input x = {0};                 \
		int use_x = 0;                             \
		(void)state;                               \
		(void)use_x;                               \
		ca_profile(&p);                            \
		body;                                      \
		run_cert(&s, &p, use_x ? &x : NULL, lint); \
	}

CERT_CASE(t_version, "cert-version", s.version = X509_VERSION_2)
CERT_CASE(t_issuer_name, "cert-issuer-name", s.issuer_name = "C=DE,O=T,CN=Someone Else")
CERT_CASE(t_subject_empty, "cert-subject-empty", s.subject = "")
CERT_CASE(t_subject_strings, "cert-subject-strings", s.subject = "C=DE,O=T,CN=Sub  CA")
CERT_CASE(t_validity_order, "cert-validity-order", s.not_before_days = 10; s.not_after_days = 5)
CERT_CASE(t_validity_nesting, "cert-validity-nesting", s.not_after_days = 3660)
CERT_CASE(t_serial_positive, "cert-serial-positive", s.serial_hex = "int"; s.serial = -5)
CERT_CASE(t_serial_entropy, "cert-serial-entropy", s.serial_hex = "0102")
CERT_CASE(t_serial_length, "cert-serial-length",
	  s.serial_hex = "7A0102030405060708090A0B0C0D0E0F1011121314")
CERT_CASE(t_extensions_unique, "cert-extensions-unique", s.exts[5] = "subjectKeyIdentifier=hash")
CERT_CASE(t_basic_constraints, "cert-basic-constraints",
	  s = with_ext(0, "basicConstraints=CA:TRUE,pathlen:0"))
CERT_CASE(t_path_len, "cert-path-len", s = with_ext(0, "basicConstraints=critical,CA:TRUE,pathlen:1"))
CERT_CASE(t_key_usage, "cert-key-usage", s = with_ext(1, "keyUsage=keyCertSign,cRLSign"))
CERT_CASE(t_eku, "cert-eku", s.exts[5] = "extendedKeyUsage=serverAuth")
CERT_CASE(t_policies, "cert-policies", s = with_ext(2, "certificatePolicies=1.3.6.1.4.1.99999.2"))
CERT_CASE(t_policy_allowed, "cert-policy-allowed",
	  static char extra[1][PROFILE_OID_MAX] = {"1.3.6.1.4.1.99999.9"};
	  s = with_ext(2, "certificatePolicies=" POLICY ",1.3.6.1.4.1.99999.9");
	  x.extra_policies = extra; x.n_extra = 1; x.expected_key = sub_key; use_x = 1)
CERT_CASE(t_any_policy, "cert-any-policy",
	  s = with_ext(2, "certificatePolicies=2.5.29.32.0");
	  s.exts[0] = "basicConstraints=critical,CA:FALSE";
	  s.exts[1] = "keyUsage=critical,digitalSignature"; p.kind = PROFILE_END_ENTITY; p.ca = 0;
	  p.path_len = -1; p.key_usage = KU_DIGITAL_SIGNATURE;
	  snprintf(p.policies[0], PROFILE_OID_MAX, "2.5.29.32.0"))
CERT_CASE(t_voucher_policy, "cert-voucher-policy", p.n_voucher_policies = 1;
	  snprintf(p.voucher_policies[0], PROFILE_OID_MAX, POLICY))
CERT_CASE(t_policy_qualifiers, "cert-policy-qualifiers", s = with_ext(2, "certificatePolicies=@pol"))
CERT_CASE(t_policies_required, "cert-policies-required", s = with_ext(2, NULL); p.n_policies = 0)
CERT_CASE(t_policies_critical, "cert-policies-critical",
	  s = with_ext(2, "certificatePolicies=critical," POLICY))
CERT_CASE(t_ski, "cert-ski", s = with_ext(3, NULL))
CERT_CASE(t_aki, "cert-aki", s = with_ext(4, NULL))
CERT_CASE(t_ca_name_unique, "cert-ca-name-unique", s.subject = "C=DE,O=T,CN=Root")
CERT_CASE(t_name_constraints_critical, "cert-name-constraints-critical",
	  s.exts[5] = "nameConstraints=permitted;DNS:example.com")
CERT_CASE(t_public_key, "cert-public-key", x.expected_key = other_key; use_x = 1)
CERT_CASE(t_path, "cert-path", s.signer = other_key)

/* Another CA's subject or CN in the history fires cert-ca-name-unique too. */
static void test_ca_name_unique_against_history(void **state)
{
	struct profile p;
	X509_NAME *other = X509_NAME_new();
	unsigned char *der = NULL;
	int len;
	struct lint_name_der names[1];
	struct lint_input x = {0};

	(void)state;
	ca_profile(&p);
	name_add(other, "C=US,O=Elsewhere,CN=sub ca"); /* the same CN, case folded */
	len = i2d_X509_NAME(other, &der);
	assert_true(len > 0);
	names[0].der = der;
	names[0].len = (size_t)len;
	x.expected_key = sub_key;
	x.other_cas = names;
	x.n_other_cas = 1;
	run_cert(&ca_spec, &p, &x, "cert-ca-name-unique");
	OPENSSL_free(der);
	X509_NAME_free(other);
}

/* --- CRLs */
struct crl_spec {
	long version;
	const char *issuer; /* NULL: the root's subject */
	int aki, number, number_value;
	long next_days;
	long serials[3];
	int reasons[3]; /* -1: no reasonCode */
	int n;
};

static const struct crl_spec good_crl = {X509_CRL_VERSION_2, NULL, 1, 1, 7, 30, {0x1234567890L}, {1}, 1};

static X509_CRL *make_crl(const struct crl_spec *s)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new(), *nu = ASN1_TIME_new();
	X509_NAME *iss = X509_NAME_new();
	time_t now = time(NULL);

	assert_true(X509_CRL_set_version(crl, s->version));
	if (s->issuer != NULL)
		name_add(iss, s->issuer);
	assert_true(X509_CRL_set_issuer_name(crl, s->issuer != NULL ? iss : X509_get_subject_name(root)));
	ASN1_TIME_set(t, now);
	ASN1_TIME_adj(nu, now, (int)s->next_days, 0);
	assert_true(X509_CRL_set1_lastUpdate(crl, t));
	assert_true(X509_CRL_set1_nextUpdate(crl, nu));
	if (s->aki) {
		AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
		akid->keyid = ASN1_OCTET_STRING_dup(X509_get0_subject_key_id(root));
		assert_true(X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0) == 1);
		AUTHORITY_KEYID_free(akid);
	}
	if (s->number) {
		ASN1_INTEGER *n = ASN1_INTEGER_new();
		ASN1_INTEGER_set(n, s->number_value);
		assert_true(X509_CRL_add1_ext_i2d(crl, NID_crl_number, n, 0, 0) == 1);
		ASN1_INTEGER_free(n);
	}
	for (int i = 0; i < s->n; i++) {
		X509_REVOKED *rev = X509_REVOKED_new();
		ASN1_INTEGER *serial = ASN1_INTEGER_new();
		ASN1_INTEGER_set(serial, s->serials[i]);
		X509_REVOKED_set_serialNumber(rev, serial);
		X509_REVOKED_set_revocationDate(rev, t);
		if (s->reasons[i] >= 0) {
			ASN1_ENUMERATED *code = ASN1_ENUMERATED_new();
			ASN1_ENUMERATED_set(code, s->reasons[i]);
			assert_true(X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, code, 0, 0) == 1);
			ASN1_ENUMERATED_free(code);
		}
		assert_true(X509_CRL_add0_revoked(crl, rev));
		ASN1_INTEGER_free(serial);
	}
	assert_true(X509_CRL_sign(crl, root_key, EVP_sha256()) > 0);
	ASN1_TIME_free(t);
	ASN1_TIME_free(nu);
	X509_NAME_free(iss);
	return crl;
}

static void run_crl(const struct crl_spec *s, const char *want)
{
	X509_CRL *crl = make_crl(s);
	char prefix[96];
	int r = lint_crl(crl, root);

	X509_CRL_free(crl);
	if (want == NULL) {
		if (r != 0)
			fail_msg("expected a pass, got: %s", cer_err_msg(r));
		return;
	}
	snprintf(prefix, sizeof(prefix), "lint %s: ", want);
	assert_int_equal(r, CER_E_REFUSED);
	if (strstr(cer_err_msg(r), prefix) == NULL)
		fail_msg("expected %s, got: %s", want, cer_err_msg(r));
	cer_err_clear();
}

static void test_good_crl_passes(void **state)
{
	struct crl_spec s = good_crl;
	(void)state;
	run_crl(&good_crl, NULL);
	s.n = 0; /* an empty CRL */
	run_crl(&s, NULL);
	s = good_crl;
	s.reasons[0] = -1; /* no reasonCode: unspecified, left out */
	run_crl(&s, NULL);
}

#define CRL_CASE(fname, lint, body)           \
	static void fname(void **state)       \
	{                                     \
		struct crl_spec s = good_crl; \
		(void)state;                  \
		body;                         \
		run_crl(&s, lint);            \
	}

CRL_CASE(t_crl_version, "crl-version", s.version = X509_CRL_VERSION_1)
CRL_CASE(t_crl_issuer, "crl-issuer", s.issuer = "C=DE,O=T,CN=Someone Else")
CRL_CASE(t_crl_aki, "crl-aki", s.aki = 0)
CRL_CASE(t_crl_number, "crl-number", s.number = 0)
CRL_CASE(t_crl_next_update, "crl-next-update", s.next_days = 400)
CRL_CASE(t_crl_entry_serial, "crl-entry-serial", s.serials[0] = 0)
CRL_CASE(t_crl_entry_unique, "crl-entry-unique",
	 s.n = 2; s.serials[1] = s.serials[0]; s.reasons[1] = 4)
CRL_CASE(t_crl_entry_reason, "crl-entry-reason", s.reasons[0] = 6)

int main(void)
{
	/* Each case is named after the rule it fires (tests/integration/test_lint.sh). */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_ca_and_end_entity_pass),
		cmocka_unit_test(test_good_crl_passes),
		{"cert-version", t_version, NULL, NULL, NULL},
		{"cert-issuer-name", t_issuer_name, NULL, NULL, NULL},
		{"cert-subject-empty", t_subject_empty, NULL, NULL, NULL},
		{"cert-subject-strings", t_subject_strings, NULL, NULL, NULL},
		{"cert-validity-order", t_validity_order, NULL, NULL, NULL},
		{"cert-validity-nesting", t_validity_nesting, NULL, NULL, NULL},
		{"cert-serial-positive", t_serial_positive, NULL, NULL, NULL},
		{"cert-serial-entropy", t_serial_entropy, NULL, NULL, NULL},
		{"cert-serial-length", t_serial_length, NULL, NULL, NULL},
		{"cert-extensions-unique", t_extensions_unique, NULL, NULL, NULL},
		{"cert-basic-constraints", t_basic_constraints, NULL, NULL, NULL},
		{"cert-path-len", t_path_len, NULL, NULL, NULL},
		{"cert-key-usage", t_key_usage, NULL, NULL, NULL},
		{"cert-eku", t_eku, NULL, NULL, NULL},
		{"cert-policies", t_policies, NULL, NULL, NULL},
		{"cert-policy-allowed", t_policy_allowed, NULL, NULL, NULL},
		{"cert-any-policy", t_any_policy, NULL, NULL, NULL},
		{"cert-voucher-policy", t_voucher_policy, NULL, NULL, NULL},
		{"cert-policy-qualifiers", t_policy_qualifiers, NULL, NULL, NULL},
		{"cert-policies-required", t_policies_required, NULL, NULL, NULL},
		{"cert-policies-critical", t_policies_critical, NULL, NULL, NULL},
		{"cert-ski", t_ski, NULL, NULL, NULL},
		{"cert-aki", t_aki, NULL, NULL, NULL},
		{"cert-ca-name-unique", t_ca_name_unique, NULL, NULL, NULL},
		cmocka_unit_test(test_ca_name_unique_against_history),
		{"cert-name-constraints-critical", t_name_constraints_critical, NULL, NULL, NULL},
		{"cert-public-key", t_public_key, NULL, NULL, NULL},
		{"cert-path", t_path, NULL, NULL, NULL},
		{"crl-version", t_crl_version, NULL, NULL, NULL},
		{"crl-issuer", t_crl_issuer, NULL, NULL, NULL},
		{"crl-aki", t_crl_aki, NULL, NULL, NULL},
		{"crl-number", t_crl_number, NULL, NULL, NULL},
		{"crl-next-update", t_crl_next_update, NULL, NULL, NULL},
		{"crl-entry-serial", t_crl_entry_serial, NULL, NULL, NULL},
		{"crl-entry-unique", t_crl_entry_unique, NULL, NULL, NULL},
		{"crl-entry-reason", t_crl_entry_reason, NULL, NULL, NULL},
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* Unit tests of YAML profile loading: shipped profiles load, bad ones are refused by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "ceremony/err.h"
#include "ceremony/profile.h"

static char path[64];

static int load_text(const char *text, struct profile *p)
{
	int fd;
	snprintf(path, sizeof(path), "/tmp/cer-prof-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	int r = profile_load(path, p);
	unlink(path);
	return r;
}

static const char good[] = "name: root\n"
			   "kind: root\n"
			   "key_types: [ec-p384, rsa-3072]\n"
			   "validity:\n  days: 9131\n"
			   "basic_constraints:\n  ca: true\n  path_len: none\n"
			   "key_usage: [keyCertSign, cRLSign]\n"
			   "subject_key_identifier: sha1\n";

static void test_profile_loads_shipped_root(void **state)
{
	struct profile p;
	(void)state;
	assert_int_equal(profile_load("ceremony-scripts/profiles/root.yaml", &p), 0);
	assert_int_equal(p.kind, PROFILE_ROOT);
	assert_true(p.ca);
	assert_int_equal(p.path_len, -1);
	assert_int_equal(p.key_usage, KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_int_equal(p.n_policies, 0);
	assert_int_equal(p.aki, 0);
	assert_int_equal(profile_check_key_type(&p, KEY_EC_P384), 0);
}

static void test_profile_reads_every_field(void **state)
{
	struct profile p;
	(void)state;
	assert_int_equal(load_text(good, &p), 0);
	assert_string_equal(p.name, "root");
	assert_int_equal(p.validity_days, 9131);
	assert_int_equal(p.key_types, (1u << KEY_EC_P384) | (1u << KEY_RSA_3072));
	assert_int_equal(profile_check_key_type(&p, KEY_EC_P256), CER_E_REFUSED);
}

static void test_profile_reads_policies_and_fixed_not_after(void **state)
{
	struct profile p;
	(void)state;
	assert_int_equal(load_text("name: ica\nkind: ca\nkey_types: [ec-p256]\n"
				   "validity:\n  not_after: \"99991231235959Z\"\n"
				   "basic_constraints: {ca: true, path_len: 0}\n"
				   "key_usage: [keyCertSign, cRLSign]\n"
				   "certificate_policies: [1.3.6.1.4.1.32473.1.1]\n"
				   "authority_key_identifier: true\n"
				   "subject: {from_csr: [C, O, CN], required: [CN], fixed: {O: ACME}}\n",
				   &p),
			 0);
	assert_string_equal(p.not_after, "99991231235959Z");
	assert_int_equal(p.path_len, 0);
	assert_int_equal(p.n_policies, 1);
	assert_string_equal(p.policies[0], "1.3.6.1.4.1.32473.1.1");
	assert_true(p.aki);
	assert_int_equal(p.n_subject_from_csr, 3);
	assert_string_equal(p.subject_fixed_type[0], "O");
	assert_string_equal(p.subject_fixed_value[0], "ACME");
}

struct bad_case {
	const char *yaml;
	const char *message;
};

static void test_profile_refuses_bad_input(void **state)
{
	static const struct bad_case cases[] = {
		{"name: root\nkind: root\nkey_types: [ec-p384\n", "line"},
		{"name: x\nkind: king\n", "kind: must be root, ca or end-entity"},
		{"name: x\nbogus: 1\n", "bogus: unknown setting"},
		{"name: x\nname: y\n", "appears twice"},
		{"name: x\nkind: root\nkey_types: [ec-p521]\n", "unknown key type"},
		{"name: x\nkind: root\nkey_types: [ec-p384]\nvalidity: {days: 0}\n",
		 "validity.days"},
		{"name: x\nkind: root\nkey_types: [ec-p384]\nvalidity: {days: 5, not_after: "
		 "\"99991231235959Z\"}\n",
		 "exactly one of days or not_after"},
		{"name: x\nkind: root\nkey_types: [ec-p384]\nvalidity: {not_after: \"20301301000000Z\"}\n",
		 "not a valid date"},
		{"name: x\nkind: ca\nkey_types: [ec-p384]\nvalidity: {days: 5}\n"
		 "basic_constraints: {ca: true}\nkey_usage: [keyCertSign]\n"
		 "certificate_policies: [not.an.oid]\n",
		 "is not an OID"},
		{"name: x\nkind: end-entity\nkey_types: [ec-p384]\nvalidity: {days: 5}\n"
		 "basic_constraints: {ca: true}\nkey_usage: [digitalSignature]\n",
		 "end-entity profile cannot be a CA"},
		{"name: x\nkind: root\nkey_types: [ec-p384]\nvalidity: {days: 5}\n"
		 "basic_constraints: {ca: true}\nkey_usage: [keyCertSign, sign]\n",
		 "unknown usage \"sign\""},
		{"name: x\nkind: root\nkey_types: [ec-p384]\nvalidity: {days: 5}\n"
		 "basic_constraints: {ca: true}\nkey_usage: [keyCertSign]\n"
		 "authority_key_identifier: true\n",
		 "self-signed root"},
		{"a: &x 1\nb: *x\n", "anchors"},
		{"- a\n- b\n", "mapping of settings"},
		{"", "empty document"},
		{"name: x\nkind: ca\nkey_types: [ec-p384]\nvalidity: {days: 5}\n"
		 "basic_constraints: {ca: true}\nkey_usage: [keyCertSign]\n",
		 "subject.from_csr: is required"},
		{"name: x\nkind: end-entity\nkey_types: [ec-p384]\nvalidity: {days: 5}\n"
		 "basic_constraints: {ca: false}\nkey_usage: [digitalSignature]\n"
		 "subject: {from_csr: [CN]}\nname_constraints: {permitted: [DNS:example.com]}\n",
		 "only for intermediate CA profiles"},
		{"name: x\nkind: end-entity\nkey_types: [ec-p384]\nvalidity: {days: 5}\n"
		 "basic_constraints: {ca: false}\nkey_usage: [digitalSignature]\n"
		 "subject: {from_csr: [CN]}\ncrl_distribution_points: [ftp://x]\n",
		 "is not allowed here"},
	};
	struct profile p;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = load_text(cases[i].yaml, &p);
		if (r == 0 || strstr(cer_err_msg(r), cases[i].message) == NULL)
			fail_msg("case %zu: got %d \"%s\", wanted \"%s\"", i, r, cer_err_msg(r),
				 cases[i].message);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_loads_shipped_root),
		cmocka_unit_test(test_profile_reads_every_field),
		cmocka_unit_test(test_profile_reads_policies_and_fixed_not_after),
		cmocka_unit_test(test_profile_refuses_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

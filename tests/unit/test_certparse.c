/* Unit tests for certparse: certificates read without their key, checked against d2i_X509. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ceremony/certinfo.h"
#include "ceremony/certparse.h"
#include "ceremony/err.h"

/* A CA certificate like issuance's: v3, extensions, signed by a P-384 issuer key. */
static X509 *make_cert(EVP_PKEY *subject, EVP_PKEY *issuer)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	assert_non_null(x);
	assert_true(X509_set_version(x, X509_VERSION_3));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234567890abcdefL));
	assert_true(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
					       (const unsigned char *)"Parsed CA", -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_txt(X509_get_issuer_name(x), "CN", MBSTRING_UTF8,
					       (const unsigned char *)"Parse Root", -1, -1, 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365 * 60)); /* past 2049 */
	assert_true(X509_set_pubkey(x, subject));
	X509V3_set_ctx(&ctx, NULL, x, NULL, NULL, 0);
	X509V3_set_ctx_nodb(&ctx);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
	assert_true(X509_sign(x, issuer, EVP_sha384()) > 0);
	return x;
}

static void check_same(const unsigned char *der, int n)
{
	const unsigned char *p = der;
	X509 *want = d2i_X509(NULL, &p, n), *got = NULL;
	unsigned char *re = NULL;
	json_t *a, *b;
	int m;

	assert_non_null(want);
	assert_int_equal(certparse_der(der, (size_t)n, &got), 0);
	assert_non_null(got);
	m = i2d_X509(got, &re);
	assert_int_equal(m, n);
	assert_memory_equal(re, der, (size_t)n);
	assert_int_equal(X509_cmp(got, want), 0);
	assert_null(X509_get0_pubkey(got)); /* read without its key: the fast way was taken */
	ERR_clear_error();
	assert_int_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(got), X509_get0_serialNumber(want)), 0);
	/* What issuance records of it is what it records of d2i_X509's. */
	a = certinfo_json(got, "p");
	b = certinfo_json(want, "p");
	assert_non_null(a);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	OPENSSL_free(re);
	X509_free(got);
	X509_free(want);
}

static void test_certparse_gives_what_d2i_gives(void **state)
{
	EVP_PKEY *issuer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	EVP_PKEY *keys[] = {EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), EVP_RSA_gen(2048),
			    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")};

	(void)state;
	assert_non_null(issuer);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		X509 *x;
		unsigned char *der = NULL;
		int n;

		assert_non_null(keys[i]);
		x = make_cert(keys[i], issuer);
		n = i2d_X509(x, &der);
		assert_true(n > 0);
		check_same(der, n);
		OPENSSL_free(der);
		X509_free(x);
		EVP_PKEY_free(keys[i]);
	}
	EVP_PKEY_free(issuer);
}

static void test_certparse_refuses_trailing_and_broken_bytes(void **state)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = make_cert(k, k), *got = NULL;
	unsigned char *der = NULL, *longer;
	int n = i2d_X509(x, &der);

	(void)state;
	longer = malloc((size_t)n + 1);
	assert_non_null(longer);
	memcpy(longer, der, (size_t)n);
	longer[n] = 0;
	assert_int_equal(certparse_der(longer, (size_t)n + 1, &got), CER_E_VERIFY);
	assert_null(got);
	assert_int_equal(certparse_der(der, (size_t)n - 1, &got), CER_E_VERIFY);
	assert_null(got);
	longer[4] ^= 0xff; /* the TBS header: no longer a certificate */
	assert_int_equal(certparse_der(longer, (size_t)n, &got), CER_E_VERIFY);
	assert_null(got);
	cer_err_clear();
	free(longer);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_certparse_gives_what_d2i_gives),
		cmocka_unit_test(test_certparse_refuses_trailing_and_broken_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for certbuild: subject names from text, serial numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/x509.h>

#include "ceremony/certbuild.h"
#include "ceremony/err.h"

static void test_name_parse_with_escaped_slash(void **state)
{
	X509_NAME *n = NULL;
	char buf[256];

	(void)state;
	assert_int_equal(certbuild_name_parse("/C=DE/O=ACME\\/Devices/CN=Root CA", 1, &n), 0);
	assert_int_equal(X509_NAME_entry_count(n), 3);
	X509_NAME_get_text_by_NID(n, NID_organizationName, buf, sizeof(buf));
	assert_string_equal(buf, "ACME/Devices");
	X509_NAME_free(n);
}

static void test_name_parse_refuses_bad_names(void **state)
{
	X509_NAME *n = NULL;

	(void)state;
	assert_int_not_equal(certbuild_name_parse("/C=DE/O=ACME", 1, &n), 0); /* no CN */
	assert_null(n);
	assert_int_not_equal(certbuild_name_parse("/C=DEU/CN=x", 1, &n), 0);  /* country */
	assert_int_not_equal(certbuild_name_parse("/CN=", 1, &n), 0);        /* empty */
	assert_int_not_equal(certbuild_name_parse("/CN=a\tb", 1, &n), 0);    /* control */
	assert_int_not_equal(certbuild_name_parse("/CN=a/CN=b", 1, &n), 0);  /* two CNs */
	assert_null(n);
	assert_int_equal(certbuild_name_parse("/C=DE/O=ACME", 0, &n), 0);
	X509_NAME_free(n);
}

static void test_serial_is_positive_sixteen_octets(void **state)
{
	uint8_t rnd[CERTBUILD_SERIAL_LEN];
	ASN1_INTEGER *s = NULL;
	BIGNUM *bn;

	(void)state;
	memset(rnd, 0xff, sizeof(rnd)); /* the top bits are forced to 01 */
	assert_int_equal(certbuild_serial(rnd, &s), 0);
	bn = ASN1_INTEGER_to_BN(s, NULL);
	assert_non_null(bn);
	assert_false(BN_is_negative(bn));
	assert_int_equal(BN_num_bytes(bn), CERTBUILD_SERIAL_LEN);
	assert_int_equal(BN_num_bits(bn), 8 * CERTBUILD_SERIAL_LEN - 1);
	BN_free(bn);
	ASN1_INTEGER_free(s);
	memset(rnd, 0, sizeof(rnd)); /* still 16 octets, never zero */
	assert_int_equal(certbuild_serial(rnd, &s), 0);
	bn = ASN1_INTEGER_to_BN(s, NULL);
	assert_int_equal(BN_num_bytes(bn), CERTBUILD_SERIAL_LEN);
	assert_false(BN_is_zero(bn));
	BN_free(bn);
	ASN1_INTEGER_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_parse_with_escaped_slash),
		cmocka_unit_test(test_name_parse_refuses_bad_names),
		cmocka_unit_test(test_serial_is_positive_sixteen_octets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

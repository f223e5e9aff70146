/*
 * p11 and p11key on a real SoftHSM2 token this test creates in its own folder:
 * every CKR_ code has a name, an attribute the module refuses to read is an
 * error and never "absent", the mechanism check says what a token lacks, PIN
 * lengths are checked before C_InitToken, and the evidence rules with their
 * waivers. Skipped (token parts) when SoftHSM2 is not installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/hsm/p11_int.h" /* the test reads attributes directly */
#include "ceremony/err.h"
#include "ceremony/p11.h"
#include "ceremony/p11key.h"
#include "ceremony/secret.h"
#include "test_softhsm.h"

static int setup(void **state)
{
	(void)state;
	return softhsm_folder_make("p11");
}

static int teardown(void **state)
{
	(void)state;
	return softhsm_folder_remove();
}

static void test_p11_names_every_ckr_code(void **state)
{
	(void)state;
	assert_string_equal(p11_rv_name(0xB5), "CKR_SESSION_READ_ONLY");
	assert_string_equal(p11_rv_name(CKR_DEVICE_REMOVED), "CKR_DEVICE_REMOVED");
	assert_string_equal(p11_rv_name(CKR_FUNCTION_REJECTED), "CKR_FUNCTION_REJECTED");
	assert_null(p11_rv_name(CKR_VENDOR_DEFINED | 0x42));
	assert_int_equal(p11_err(0xB5, "writing"), CER_E_P11);
	assert_non_null(strstr(cer_err_msg(CER_E_P11), "CKR_SESSION_READ_ONLY"));
	assert_int_equal(p11_err(CKR_VENDOR_DEFINED | 0x42, "writing"), CER_E_P11);
	assert_non_null(strstr(cer_err_msg(CER_E_P11), "CKR_VENDOR_DEFINED+0x42 (0x80000042)"));
	assert_int_equal(p11_err(CKR_NEXT_OTP, "logging in"), CER_E_P11);
	assert_non_null(strstr(cer_err_msg(CER_E_P11), "CKR_NEXT_OTP (0x1b1)"));
	assert_null(strstr(cer_err_msg(CER_E_P11), "unexpected"));
}

static void test_p11_pin_rule_is_checked_and_stated(void **state)
{
	struct p11_token t;

	(void)state;
	memset(&t, 0, sizeof(t));
	strcpy(t.manufacturer, "M");
	strcpy(t.model, "X");
	t.min_pin_len = 4;
	t.max_pin_len = 8;
	assert_int_equal(p11_pin_len_check(&t, "the user PIN", 3), CER_E_PIN);
	assert_non_null(strstr(cer_err_msg(CER_E_PIN), "takes 4 to 8"));
	assert_int_equal(p11_pin_len_check(&t, "the user PIN", 9), CER_E_PIN);
	assert_int_equal(p11_pin_len_check(&t, "the user PIN", 4), 0);
	t.max_pin_len = CK_UNAVAILABLE_INFORMATION; /* no stated upper limit */
	assert_int_equal(p11_pin_len_check(&t, "the user PIN", 200), 0);
}

static void test_p11_tokens_with_a_shared_serial_are_named_by_slot(void **state)
{
	struct p11_token t;
	char out[200];

	(void)state;
	memset(&t, 0, sizeof(t));
	strcpy(t.label, "tpm-token");
	strcpy(t.serial, "0000000000000000");
	strcpy(t.manufacturer, "IBM");
	strcpy(t.model, "SW   TPM");
	t.slot = 2;
	assert_false(p11_token_serial_is_unique(&t));
	p11_token_describe(&t, out, sizeof(out));
	assert_non_null(strstr(out, "slot 0x2"));
	assert_non_null(strstr(out, "IBM SW   TPM"));
	strcpy(t.serial, "5d1c0a");
	assert_true(p11_token_serial_is_unique(&t));
}

static void test_p11key_waivers_cover_exactly_their_attribute(void **state)
{
	struct p11key_evidence ev = {
		.token = 1, .private_ = 1, .sensitive = 1, .extractable = 0,
		.wrap_with_trusted = -1, .sign = 1, .decrypt = 1, .unwrap = 0, .derive = 0,
		.sign_recover = 0, .local = 1, .always_sensitive = 1, .never_extractable = 1,
		.key_gen_mechanism = CK_UNAVAILABLE_INFORMATION};
	unsigned w = 0, used = 0;

	(void)state;
	/* DECRYPT TRUE and no KEY_GEN_MECHANISM: refused, naming the first. */
	assert_int_equal(p11key_evidence_check(&ev, P11KEY_ROOT_NONE, 1, 0, NULL), CER_E_REFUSED);
	assert_non_null(strstr(cer_err_msg(CER_E_REFUSED), "CKA_DECRYPT = TRUE"));
	assert_int_equal(p11key_waiver_parse("CKA_DECRYPT", &w), 0);
	assert_int_equal(p11key_evidence_check(&ev, P11KEY_ROOT_NONE, 1, w, NULL), CER_E_REFUSED);
	assert_non_null(strstr(cer_err_msg(CER_E_REFUSED), "CKA_KEY_GEN_MECHANISM = absent"));
	assert_int_equal(p11key_waiver_parse("CKA_KEY_GEN_MECHANISM", &w), 0);
	assert_int_equal(p11key_evidence_check(&ev, P11KEY_ROOT_NONE, 1, w, &used), 0);
	assert_int_equal(used, w);
	/* A waiver never covers another attribute. */
	ev.unwrap = 1;
	assert_int_equal(p11key_evidence_check(&ev, P11KEY_ROOT_NONE, 1, w, NULL), CER_E_REFUSED);
	assert_non_null(strstr(cer_err_msg(CER_E_REFUSED), "CKA_UNWRAP"));
	/* An absent EXTRACTABLE is not FALSE. */
	ev.unwrap = 0;
	ev.extractable = -1;
	assert_int_equal(p11key_evidence_check(&ev, P11KEY_ROOT_NONE, 1, w, NULL), CER_E_REFUSED);
	assert_non_null(strstr(cer_err_msg(CER_E_REFUSED), "CKA_EXTRACTABLE = absent"));
	assert_int_equal(p11key_waiver_parse("CKA_SENSITIVE", &w), CER_E_INPUT);
	assert_int_equal(p11key_waiver_parse("CKA_EXTRACTABLE", &w), CER_E_INPUT);
	assert_int_equal(p11key_waiver_parse("CKA_NOPE", &w), CER_E_INPUT);
}

static void test_p11_on_softhsm(void **state)
{
	struct secret *so = pin("so-pin-0000"), *user = pin("user-pin-1234"), *bad = pin("abc");
	struct p11_module *m = NULL;
	struct p11_token t, slot;
	struct p11_session *s = NULL;
	struct p11key key;
	struct p11key_evidence ev;
	int created = 1, v = 7;

	(void)state;
	if (module_path[0] == '\0')
		skip();
	assert_int_equal(p11_module_load(module_path, &m), 0);
	/* A refused PIN length changes nothing: the slot stays uninitialised. */
	assert_int_equal(p11_token_init(m, "root-hsm", so, bad, &t, &created), CER_E_PIN);
	assert_int_equal(created, 0);
	assert_non_null(strstr(cer_err_msg(CER_E_PIN), "nothing was initialised"));
	assert_int_equal(p11_token_find_free(m, "root-hsm", &slot), 0);
	assert_false(slot.initialized);
	assert_int_equal(p11_token_init(m, "root-hsm", so, user, &t, &created), 0);
	assert_int_equal(created, 1);
	assert_int_equal(p11_token_pins_usable(&t), 0);
	/* What the token offers, and what it does not. */
	assert_int_equal(p11_mech_check(m, &t, CKM_EC_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR, 384), 0);
	assert_int_equal(p11_mech_check(m, &t, CKM_RSA_PKCS_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR,
					 1 << 20),
			 CER_E_REFUSED);
	assert_non_null(strstr(cer_err_msg(CER_E_REFUSED), "key sizes"));
	assert_int_equal(p11_mech_check(m, &t, CKM_ECDSA, CKF_WRAP, 0), CER_E_REFUSED);
	assert_non_null(strstr(cer_err_msg(CER_E_REFUSED), "CKF_WRAP"));
	assert_int_equal(p11_mech_check(m, &t, CKM_VENDOR_DEFINED | 7, 0, 0), CER_E_REFUSED);
	assert_non_null(strstr(cer_err_msg(CER_E_REFUSED), "does not offer"));

	assert_int_equal(p11_session_open(m, &t, &s), 0);
	assert_int_equal(p11_login(s, CKU_USER, user), 0);
	assert_int_equal(p11_mech_supported(s, 0x210A /* AES_KEY_WRAP_PAD */, CKF_WRAP, 256), 0);
	assert_int_equal(p11key_generate(s, "root", KEY_EC_P384, P11KEY_ROOT_WRAP, 0, &key, &ev), 0);
	/* CKA_VALUE of a sensitive key: CKR_ATTRIBUTE_SENSITIVE with length -1 is an error. */
	assert_int_equal(p11_attr_bool(s, key.priv, CKA_VALUE, &v), CER_E_REFUSED);
	assert_int_equal(v, -1);
	assert_non_null(strstr(cer_err_msg(CER_E_REFUSED), "CKR_ATTRIBUTE_SENSITIVE"));
	/* A missing attribute is absent, not an error. */
	if (p11_attr_bool(s, key.priv, CKA_MODULUS_BITS, &v) != 0)
		fail_msg("%s", cer_err_msg(CER_E_P11));
	assert_int_equal(v, -1);
	/* An unneeded waiver is refused, and nothing is left behind. */
	unsigned w = 0;
	assert_int_equal(p11key_waiver_parse("CKA_LOCAL", &w), 0);
	assert_int_equal(p11key_generate(s, "root2", KEY_EC_P256, P11KEY_ROOT_NONE, w, &key, &ev),
			 CER_E_INPUT);
	assert_non_null(strstr(cer_err_msg(CER_E_INPUT), "destroyed"));
	assert_int_equal(p11key_find(s, "root2", &key), CER_E_NOTFOUND);
	/* Destroying a handle that is gone keeps the first message and names what may remain. */
	(void)cer_err(CER_E_P11, "the first failure");
	assert_int_equal(p11_object_destroy_keep_error(s, 0x7fffff, "the test object"), CER_E_P11);
	assert_non_null(strstr(cer_err_msg(CER_E_P11), "the first failure; the test object may remain"));
	p11_session_close(s);
	p11_module_free(m);
	secret_free(so);
	secret_free(user);
	secret_free(bad);
}

int main(void)
{
	if (secret_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_p11_names_every_ckr_code),
		cmocka_unit_test(test_p11_pin_rule_is_checked_and_stated),
		cmocka_unit_test(test_p11_tokens_with_a_shared_serial_are_named_by_slot),
		cmocka_unit_test(test_p11key_waivers_cover_exactly_their_attribute),
		cmocka_unit_test(test_p11_on_softhsm),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

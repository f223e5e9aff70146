/*
 * Unit tests of certsig: for P-384 and P-256 issuers (Nettle's ECDSA) and RSA and
 * Ed25519 issuers (OpenSSL's), a certificate's signature verifies exactly when
 * OpenSSL's X509_verify says it does: good, signed by another key, TBS changed after
 * signing, signature altered, signature with a trailing byte; certsig_verify_tbs (the
 * issuance's post-sign check) over the same TBS and signature agrees. lint_path_checked gives
 * lint_path's verdict and message, for a good chain and for each way a chain fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "ceremony/certsig.h"
#include "ceremony/err.h"
#include "ceremony/lint.h"
#include "ceremony/profile.h"

static void ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

/* A certificate for key, named cn, by issuer (NULL: self-signed) with signer's key. */
static X509 *make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *signer, const EVP_MD *md,
		  long nb_days, long na_days, const char *ku)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	assert_true(X509_set_version(x, X509_VERSION_3));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234567));
	assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
					       -1, -1, 0));
	assert_true(X509_set_subject_name(x, n));
	assert_true(X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : n));
	assert_non_null(X509_time_adj_ex(X509_getm_notBefore(x), (int)nb_days, 0, NULL));
	assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), (int)na_days, 0, NULL));
	assert_true(X509_set_pubkey(x, key));
	if (issuer == NULL)
		ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
	ext(x, issuer != NULL ? issuer : x, NID_subject_key_identifier, "hash");
	if (issuer != NULL)
		ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	ext(x, NULL, NID_key_usage, ku);
	assert_true(X509_sign(x, signer, md) > 0);
	X509_NAME_free(n);
	return x;
}

/* The same certificate read back from its DER, as the audit reads one from a file. */
static X509 *reread(X509 *x)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int n = i2d_X509(x, &der);
	X509 *y;

	assert_true(n > 0);
	p = der;
	y = d2i_X509(NULL, &p, n);
	assert_non_null(y);
	OPENSSL_free(der);
	return y;
}

/* x's DER with the last octet of its serial (INTEGER 0x01234567) changed, read back. */
static X509 *tampered(X509 *x)
{
	static const unsigned char serial[] = {0x02, 0x04, 0x01, 0x23, 0x45, 0x67};
	unsigned char *der = NULL, *at;
	const unsigned char *p;
	int n = i2d_X509(x, &der);
	X509 *y;

	assert_true(n > 0);
	at = memmem(der, (size_t)n, serial, sizeof(serial));
	assert_non_null(at);
	at[sizeof(serial) - 1] ^= 0x01;
	p = der;
	y = d2i_X509(NULL, &p, n);
	assert_non_null(y);
	OPENSSL_free(der);
	return y;
}

/* certsig_verify_tbs over the certificate's TBS bytes and signature: the same verdict
 * (the issuance's post-sign check takes the TBS the HSM signed and its signature). */
static void expect_tbs(struct certsig_key *k, X509 *x, int want)
{
	const ASN1_BIT_STRING *sig = NULL;
	const X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *oid = NULL;
	unsigned char *tbs = NULL;
	int tl = i2d_re_X509_tbs(x, &tbs), md_nid = NID_undef, pk_nid = NID_undef;

	assert_true(tl > 0);
	X509_get0_signature(&sig, &alg, x);
	X509_ALGOR_get0(&oid, NULL, NULL, alg);
	assert_true(OBJ_find_sigid_algs(OBJ_obj2nid(oid), &md_nid, &pk_nid));
	assert_int_equal(certsig_verify_tbs(k, md_nid == NID_undef ? NULL : EVP_get_digestbynid(md_nid),
					    tbs, (size_t)tl, ASN1_STRING_get0_data(sig),
					    (size_t)ASN1_STRING_length(sig)),
			 want);
	OPENSSL_free(tbs);
}

static void expect_at(struct certsig_key *k, X509 *root, X509 *x, int want, int line)
{
	if ((X509_verify(x, X509_get0_pubkey(root)) == 1) != want)
		fail_msg("X509_verify disagrees with want %d at line %d", want, line);
	assert_int_equal(certsig_verify(k, x), want);
	expect_tbs(k, x, want);
}

static EVP_PKEY *keygen(const char *alg, const char *param)
{
	EVP_PKEY *k = strcmp(alg, "RSA") == 0	? EVP_PKEY_Q_keygen(NULL, NULL, alg, (size_t)2048)
		      : param != NULL		? EVP_PKEY_Q_keygen(NULL, NULL, alg, param)
						: EVP_PKEY_Q_keygen(NULL, NULL, alg);
	assert_non_null(k);
	return k;
}

#define expect(k, root, x, want) expect_at(k, root, x, want, __LINE__)

static void run_issuer(const char *alg, const char *param, const EVP_MD *md, int fast)
{
	EVP_PKEY *rk = keygen(alg, param), *other = keygen(alg, param);
	EVP_PKEY *leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *made, *root, *x, *y;
	struct certsig_key *k = NULL;
	ASN1_BIT_STRING *sig;
	unsigned char *copy;
	int len;

	assert_non_null(rk);
	made = make("Root", rk, NULL, rk, md, -10, 3650, "critical,keyCertSign,cRLSign");
	root = reread(made);
	assert_int_equal(certsig_key_new(root, &k), 0);
	assert_int_equal(certsig_key_fast(k), fast);
	assert_ptr_equal(certsig_key_issuer(k), root);

	/* Good, then by another key. */
	x = make("Leaf", leaf_key, root, rk, md, -1, 365, "critical,digitalSignature");
	y = reread(x);
	expect(k, root, y, 1);
	X509_free(y);
	X509_free(x);
	x = make("Leaf", leaf_key, root, other, md, -1, 365, "critical,digitalSignature");
	y = reread(x);
	expect(k, root, y, 0);
	X509_free(y);
	X509_free(x);

	/* The TBS changed after signing: one byte of the serial in the DER. */
	x = make("Leaf", leaf_key, root, rk, md, -1, 365, "critical,digitalSignature");
	y = tampered(x);
	expect(k, root, y, 0);
	X509_free(y);

	/* One bit of the signature flipped; then a byte after its DER. */
	y = reread(x);
	X509_get0_signature((const ASN1_BIT_STRING **)&sig, NULL, y);
	len = ASN1_STRING_length(sig);
	copy = OPENSSL_malloc((size_t)len + 1);
	assert_non_null(copy);
	memcpy(copy, ASN1_STRING_get0_data(sig), (size_t)len);
	copy[len - 2] ^= 0x01;
	assert_true(ASN1_BIT_STRING_set(sig, copy, len));
	expect(k, root, y, 0);
	copy[len - 2] ^= 0x01;
	copy[len] = 0x00;
	assert_true(ASN1_BIT_STRING_set(sig, copy, len + 1));
	expect(k, root, y, 0);
	assert_true(ASN1_BIT_STRING_set(sig, copy, len));
	expect(k, root, y, 1);
	OPENSSL_free(copy);
	X509_free(y);
	X509_free(x);

	certsig_key_free(k);
	X509_free(root);
	X509_free(made);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(other);
	EVP_PKEY_free(leaf_key);
}

static void test_p384_issuer_nettle(void **state)
{
	(void)state;
	run_issuer("EC", "P-384", EVP_sha384(), 1);
	run_issuer("EC", "P-384", EVP_sha256(), 1);
}

static void test_p256_issuer_nettle(void **state)
{
	(void)state;
	run_issuer("EC", "P-256", EVP_sha256(), 1);
	run_issuer("EC", "P-256", EVP_sha384(), 1);
}

static void test_rsa_ed25519_issuer_openssl(void **state)
{
	(void)state;
	run_issuer("RSA", NULL, EVP_sha256(), 0);
	run_issuer("ED25519", NULL, NULL, 0);
}

/* lint_path and lint_path_checked: the same verdict and the same message. */
static void same_verdict(X509 *leaf, X509 *root, const char *want)
{
	struct profile p;
	struct certsig_key *k = NULL;
	char msg[512] = "";
	int r1, r2;

	memset(&p, 0, sizeof(p));
	p.kind = PROFILE_END_ENTITY;
	r1 = lint_path(leaf, root, &p, NULL, 0, 0);
	if (r1 != 0)
		snprintf(msg, sizeof(msg), "%s", cer_err_msg(r1));
	cer_err_clear();
	assert_int_equal(certsig_key_new(root, &k), 0);
	r2 = lint_path_checked(leaf, k, &p, NULL, 0);
	assert_int_equal(r1, r2);
	if (want == NULL) {
		assert_int_equal(r2, 0);
	} else {
		assert_int_equal(r2, CER_E_REFUSED);
		assert_string_equal(cer_err_msg(r2), msg);
		if (strstr(msg, want) == NULL)
			fail_msg("expected \"%s\", got: %s", want, msg);
	}
	cer_err_clear();
	certsig_key_free(k);
}

static void test_path_checked_as_openssl(void **state)
{
	EVP_PKEY *rk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	EVP_PKEY *lk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *root = make("Root", rk, NULL, rk, EVP_sha384(), -10, 3650, "critical,keyCertSign");
	X509 *late = make("Root", rk, NULL, rk, EVP_sha384(), 10, 3650, "critical,keyCertSign");
	X509 *nosign = make("Root", rk, NULL, rk, EVP_sha384(), -10, 3650, "critical,cRLSign");
	X509 *good = make("Leaf", lk, root, rk, EVP_sha384(), -1, 365, "critical,digitalSignature");
	X509 *forged = make("Leaf", lk, root, other, EVP_sha384(), -1, 365, "critical,digitalSignature");
	X509 *outlives = make("Leaf", lk, root, rk, EVP_sha384(), -1, 4000, "critical,digitalSignature");

	(void)state;
	same_verdict(good, root, NULL);
	same_verdict(forged, root, "signature failure");
	/* As of the leaf's notBefore, a root valid only from later is not yet valid. */
	same_verdict(good, late, "not yet valid");
	same_verdict(good, nosign, "invalid CA certificate");
	same_verdict(outlives, root, NULL);
	X509_free(root);
	X509_free(late);
	X509_free(nosign);
	X509_free(good);
	X509_free(forged);
	X509_free(outlives);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(other);
	EVP_PKEY_free(lk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_p384_issuer_nettle),
		cmocka_unit_test(test_p256_issuer_nettle),
		cmocka_unit_test(test_rsa_ed25519_issuer_openssl),
		cmocka_unit_test(test_path_checked_as_openssl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for CSR intake: strict parsing and checks, on requests built with OpenSSL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ceremony/csr.h"
#include "ceremony/err.h"

struct blob {
	uint8_t *p;
	size_t len;
};

static EVP_PKEY *key_ec(const char *curve)
{
	EVP_PKEY *k = EVP_EC_gen(curve);
	assert_non_null(k);
	return k;
}

static void add_ext(STACK_OF(X509_EXTENSION) **sk, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, NULL, NULL, NULL, NULL, 0);
	X509V3_set_ctx_nodb(&ctx);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	if (*sk == NULL)
		*sk = sk_X509_EXTENSION_new_null();
	assert_true(sk_X509_EXTENSION_push(*sk, e) > 0);
}

static void add_ext_der(STACK_OF(X509_EXTENSION) **sk, int nid, const uint8_t *der, int len)
{
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;

	assert_true(ASN1_OCTET_STRING_set(v, der, len));
	e = X509_EXTENSION_create_by_NID(NULL, nid, 0, v);
	assert_non_null(e);
	ASN1_OCTET_STRING_free(v);
	if (*sk == NULL)
		*sk = sk_X509_EXTENSION_new_null();
	assert_true(sk_X509_EXTENSION_push(*sk, e) > 0);
}

/* A request for key, signed with md, subject "C=DE, O=ACME, CN=cn", extensions exts. */
static struct blob make_req(EVP_PKEY *key, const EVP_MD *md, const char *cn,
			    STACK_OF(X509_EXTENSION) *exts)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_REQ_get_subject_name(req);
	unsigned char *der = NULL;
	struct blob b;
	int n;

	assert_true(X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"DE",
					       -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
					       (const unsigned char *)"ACME", -1, -1, 0));
	if (cn != NULL)
		assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
						       (const unsigned char *)cn, -1, -1, 0));
	assert_true(X509_REQ_set_pubkey(req, key));
	if (exts != NULL)
		assert_true(X509_REQ_add_extensions(req, exts));
	assert_true(X509_REQ_sign(req, key, md) > 0);
	n = i2d_X509_REQ(req, &der);
	assert_true(n > 0);
	b.p = malloc((size_t)n + 8);
	assert_non_null(b.p);
	memcpy(b.p, der, (size_t)n);
	b.len = (size_t)n;
	OPENSSL_free(der);
	X509_REQ_free(req);
	return b;
}

static struct blob to_pem(const struct blob *der)
{
	const unsigned char *p = der->p;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)der->len);
	BIO *bio = BIO_new(BIO_s_mem());
	char *mem;
	long n;
	struct blob b;

	assert_non_null(req);
	assert_true(PEM_write_bio_X509_REQ(bio, req));
	n = BIO_get_mem_data(bio, &mem);
	b.p = malloc((size_t)n * 2 + 64);
	memcpy(b.p, mem, (size_t)n);
	b.len = (size_t)n;
	BIO_free(bio);
	X509_REQ_free(req);
	return b;
}

static const struct csr_verdict *find(const struct csr_report *r, const char *name)
{
	for (int i = 0; i < r->n; i++)
		if (strcmp(r->checks[i].name, name) == 0)
			return &r->checks[i];
	return NULL;
}

static void assert_check(const struct csr_report *r, const char *name, int pass)
{
	const struct csr_verdict *v = find(r, name);
	if (v == NULL)
		fail_msg("check %s not run", name);
	if (v->pass != pass)
		fail_msg("check %s: expected %s: %s", name, pass ? "pass" : "fail", v->msg);
}

static void test_csr_accepts_a_good_p256_request(void **state)
{
	EVP_PKEY *k = key_ec("P-256");
	struct blob b = make_req(k, EVP_sha256(), "MASA signer", NULL);
	struct csr_report rep;
	struct csr *c = NULL;
	uint8_t fp[SHA256_LEN], want[SHA256_LEN];
	unsigned char *spki = NULL;
	enum key_type t;
	char subj[256];
	int n;

	(void)state;
	assert_int_equal(csr_parse(b.p, b.len, "good.csr", &c), 0);
	assert_int_equal(csr_check(c, NULL, &rep), 0);
	assert_int_equal(rep.n_failed, 0);
	assert_true(rep.n >= 15);
	assert_int_equal(csr_key_type(c, &t), 0);
	assert_int_equal(t, KEY_EC_P256);
	assert_int_equal(csr_spki_sha256(c, fp), 0);
	n = i2d_PUBKEY(k, &spki);
	assert_true(EVP_Digest(spki, (size_t)n, want, NULL, EVP_sha256(), NULL));
	assert_memory_equal(fp, want, sizeof(fp));
	assert_int_equal(csr_subject_text(c, subj, sizeof(subj)), 0);
	assert_string_equal(subj, "C=DE, O=ACME, CN=MASA signer");
	assert_non_null(csr_req(c));
	assert_true(EVP_PKEY_eq(csr_pubkey(c), k) == 1);
	OPENSSL_free(spki);
	csr_free(c);
	free(b.p);
	EVP_PKEY_free(k);
}

/*
 * csr_parse reads an uncompressed P-256/384/521 key without OpenSSL's decoder
 * (csr_fast.c) and rebuilds the request: the request it gives re-encodes to the
 * input, its self-signature verifies with its key, and the key is the signer's,
 * as for an RSA request read the usual way. A compressed point takes the usual
 * way too and is refused by key-curve as before.
 */
static void test_csr_reads_each_key_kind_as_openssl_does(void **state)
{
	EVP_PKEY *keys[] = {key_ec("P-256"), key_ec("P-384"), key_ec("P-521"),
			    EVP_RSA_gen(2048)};
	const EVP_MD *mds[] = {EVP_sha256(), EVP_sha384(), EVP_sha512(), EVP_sha256()};
	STACK_OF(X509_EXTENSION) *exts = NULL;
	struct csr_report rep;

	(void)state;
	add_ext(&exts, NID_subject_alt_name, "DNS:masa.example");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct blob b = make_req(keys[i], mds[i], "kinds", exts);
		unsigned char *re = NULL;
		struct csr *c = NULL;
		int n;

		assert_non_null(keys[i]);
		assert_int_equal(csr_parse(b.p, b.len, "kinds.csr", &c), 0);
		n = i2d_X509_REQ(csr_req(c), &re);
		assert_int_equal(n, (int)b.len);
		assert_memory_equal(re, b.p, b.len);
		assert_true(EVP_PKEY_eq(csr_pubkey(c), keys[i]) == 1);
		assert_true(X509_REQ_verify(csr_req(c), csr_pubkey(c)) == 1);
		assert_int_equal(csr_check(c, NULL, &rep), 0);
		OPENSSL_free(re);
		csr_free(c);
		free(b.p);
	}
	/* The same P-256 key with its point compressed. */
	{
		EVP_PKEY *k = key_ec("P-256");
		struct blob b;
		struct csr *c = NULL;

		assert_true(EVP_PKEY_set_utf8_string_param(k, "point-format", "compressed"));
		b = make_req(k, EVP_sha256(), "compressed", NULL);
		assert_int_equal(csr_parse(b.p, b.len, "compressed.csr", &c), 0);
		assert_true(EVP_PKEY_eq(csr_pubkey(c), k) == 1);
		assert_int_not_equal(csr_check(c, NULL, &rep), 0);
		assert_check(&rep, "key-curve", 0);
		cer_err_clear();
		csr_free(c);
		free(b.p);
		EVP_PKEY_free(k);
	}
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		EVP_PKEY_free(keys[i]);
}

static void test_csr_refuses_trailing_bytes_and_indefinite_lengths(void **state)
{
	EVP_PKEY *k = key_ec("P-256");
	struct blob b = make_req(k, EVP_sha256(), "x", NULL);
	struct csr *c = NULL;
	uint8_t *bad;
	size_t hdr;

	(void)state;
	b.p[b.len] = 0x00;
	assert_int_equal(csr_parse(b.p, b.len + 1, "t.csr", &c), CER_E_INPUT);
	assert_null(c);
	assert_non_null(strstr(cer_err_msg(CER_E_INPUT), "der-strict"));
	/* 30 81 ll ... -> 30 80 ... 00 00 (BER indefinite length) */
	assert_true(b.p[1] == 0x81 || b.p[1] == 0x82);
	hdr = b.p[1] == 0x81 ? 3 : 4;
	bad = malloc(b.len + 2);
	bad[0] = 0x30;
	bad[1] = 0x80;
	memcpy(bad + 2, b.p + hdr, b.len - hdr);
	bad[b.len - hdr + 2] = 0;
	bad[b.len - hdr + 3] = 0;
	assert_int_equal(csr_parse(bad, b.len - hdr + 4, "i.csr", &c), CER_E_INPUT);
	assert_non_null(strstr(cer_err_msg(CER_E_INPUT), "der-strict"));
	assert_int_equal(csr_parse(b.p, 0, "empty.csr", &c), CER_E_INPUT);
	assert_int_equal(csr_parse(b.p, CSR_MAX_BYTES + 1, "big.csr", &c), CER_E_INPUT);
	free(bad);
	free(b.p);
	EVP_PKEY_free(k);
}

static void test_csr_takes_one_pem_block_and_nothing_else(void **state)
{
	EVP_PKEY *k = key_ec("P-384");
	struct blob der = make_req(k, EVP_sha384(), "x", NULL);
	struct blob pem = to_pem(&der);
	struct csr *c = NULL;
	size_t len = pem.len;

	(void)state;
	assert_int_equal(csr_parse(pem.p, pem.len, "ok.pem", &c), 0);
	csr_free(c);
	c = NULL;
	memcpy(pem.p + len, "\n \t\r\n", 5);
	assert_int_equal(csr_parse(pem.p, len + 5, "ws.pem", &c), 0);
	csr_free(c);
	c = NULL;
	memcpy(pem.p + len, "x\n", 2);
	assert_int_equal(csr_parse(pem.p, len + 2, "junk.pem", &c), CER_E_INPUT);
	assert_non_null(strstr(cer_err_msg(CER_E_INPUT), "pem-format"));
	memcpy(pem.p + len, pem.p, len); /* two requests */
	assert_int_equal(csr_parse(pem.p, 2 * len, "two.pem", &c), CER_E_INPUT);
	assert_non_null(strstr(cer_err_msg(CER_E_INPUT), "another PEM block"));
	pem.p[len - 3] = '\0';
	assert_int_equal(csr_parse(pem.p, len, "nul.pem", &c), CER_E_INPUT);
	memcpy(pem.p, "-----BEGIN CERTIFICATE-----", 27);
	assert_int_equal(csr_parse(pem.p, 27, "cert.pem", &c), CER_E_INPUT);
	assert_null(c);
	free(pem.p);
	free(der.p);
	EVP_PKEY_free(k);
}

static void test_csr_check_runs_every_check_and_names_each_failure(void **state)
{
	EVP_PKEY *k = key_ec("P-256");
	STACK_OF(X509_EXTENSION) *exts = NULL;
	struct blob b;
	struct csr_report rep;
	struct csr *c = NULL;
	char names[256];

	(void)state;
	add_ext(&exts, NID_subject_alt_name, "DNS:a.example");
	add_ext(&exts, NID_subject_alt_name, "DNS:b.example");
	b = make_req(k, EVP_sha1(), "x", exts);
	assert_int_equal(csr_parse(b.p, b.len, "two.csr", &c), 0);
	assert_int_equal(csr_check(c, NULL, &rep), CER_E_REFUSED);
	assert_int_equal(rep.n_failed, 2);
	assert_check(&rep, "signature-hash", 0);
	assert_check(&rep, "extensions-unique", 0);
	assert_check(&rep, "self-signature", 1);
	assert_check(&rep, "subject-cn", 1);
	csr_report_failed_names(&rep, names, sizeof(names));
	assert_string_equal(names, "signature-hash, extensions-unique");
	assert_non_null(strstr(cer_err_msg(CER_E_REFUSED), "two.csr: refused: 2 checks failed"));
	csr_free(c);
	free(b.p);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	EVP_PKEY_free(k);
}

static void test_csr_refuses_the_root_key_and_known_keys(void **state)
{
	EVP_PKEY *k = key_ec("P-384");
	struct blob b = make_req(k, EVP_sha384(), "x", NULL);
	X509 *root = X509_new();
	struct csr_policy pol = {NULL, NULL, NULL, 0};
	struct csr_report rep;
	struct csr *c = NULL;
	uint8_t known[2][SHA256_LEN];

	(void)state;
	assert_true(X509_set_pubkey(root, k));
	assert_int_equal(csr_parse(b.p, b.len, "r.csr", &c), 0);
	pol.root = root;
	assert_int_equal(csr_check(c, &pol, &rep), CER_E_REFUSED);
	assert_check(&rep, "key-reuse", 0);
	pol.root = NULL;
	memset(known[0], 0xab, SHA256_LEN);
	assert_int_equal(csr_spki_sha256(c, known[1]), 0);
	pol.known_spki = (const uint8_t(*)[SHA256_LEN])known;
	pol.n_known_spki = 1;
	assert_int_equal(csr_check(c, &pol, &rep), 0);
	pol.n_known_spki = 2;
	assert_int_equal(csr_check(c, &pol, &rep), CER_E_REFUSED);
	assert_check(&rep, "key-reuse", 0);
	assert_int_equal(rep.n_failed, 1);
	csr_free(c);
	X509_free(root);
	free(b.p);
	EVP_PKEY_free(k);
}

static void masa_profile(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "masa");
	p->kind = PROFILE_END_ENTITY;
	p->key_types = 1u << KEY_EC_P256;
	p->validity_days = 730;
	p->path_len = -1;
	p->key_usage = KU_DIGITAL_SIGNATURE;
	p->n_policies = 1;
	snprintf(p->policies[0], PROFILE_OID_MAX, "1.3.6.1.4.1.99999.1.2");
	p->allow_san = 1; /* subject_alt_name_from_csr: true */
	p->n_subject_from_csr = 3; /* as a loaded profile must have */
	snprintf(p->subject_from_csr[0], PROFILE_ATTR_MAX, "C");
	snprintf(p->subject_from_csr[1], PROFILE_ATTR_MAX, "O");
	snprintf(p->subject_from_csr[2], PROFILE_ATTR_MAX, "CN");
}

static void test_csr_profile_refuses_what_it_does_not_grant(void **state)
{
	static const uint8_t any_policy[] = {0x30, 0x08, 0x30, 0x06, 0x06, 0x04,
					     0x55, 0x1d, 0x20, 0x00};
	EVP_PKEY *k = key_ec("P-256");
	STACK_OF(X509_EXTENSION) *exts = NULL;
	struct profile prof;
	struct csr_policy pol = {&prof, NULL, NULL, 0};
	struct csr_report rep;
	struct csr *c = NULL;
	struct blob b;

	(void)state;
	masa_profile(&prof);
	add_ext(&exts, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(&exts, NID_ext_key_usage, "1.3.6.1.5.5.7.3.28");
	add_ext_der(&exts, NID_certificate_policies, any_policy, sizeof(any_policy));
	add_ext(&exts, NID_key_usage, "digitalSignature,keyCertSign");
	add_ext(&exts, NID_subject_alt_name, "DNS:masa.example");
	b = make_req(k, EVP_sha256(), "x", exts);
	assert_int_equal(csr_parse(b.p, b.len, "p.csr", &c), 0);
	assert_int_equal(csr_check(c, &pol, &rep), CER_E_REFUSED);
	assert_check(&rep, "profile-basic-constraints", 0);
	assert_check(&rep, "profile-eku", 0);
	assert_check(&rep, "profile-policies", 0);
	assert_check(&rep, "profile-key-usage", 0);
	assert_check(&rep, "profile-san", 1);
	assert_check(&rep, "profile-key-type", 1);
	assert_int_equal(rep.n_failed, 4);
	/* the same request on a CA profile: SAN refused, CA:TRUE agrees */
	prof.kind = PROFILE_CA;
	prof.ca = 1;
	prof.key_usage = KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE;
	assert_int_equal(csr_check(c, &pol, &rep), CER_E_REFUSED);
	assert_check(&rep, "profile-san", 0);
	assert_check(&rep, "profile-basic-constraints", 1);
	assert_check(&rep, "profile-key-usage", 1);
	csr_free(c);
	free(b.p);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	EVP_PKEY_free(k);
}

static void test_csr_profile_subject_and_key_rules(void **state)
{
	EVP_PKEY *k = key_ec("P-384");
	struct profile prof;
	struct csr_policy pol = {&prof, NULL, NULL, 0};
	struct csr_report rep;
	struct csr *c = NULL;
	struct blob b = make_req(k, EVP_sha384(), NULL, NULL);

	(void)state;
	masa_profile(&prof);
	assert_int_equal(csr_parse(b.p, b.len, "n.csr", &c), 0);
	assert_int_equal(csr_check(c, &pol, &rep), CER_E_REFUSED);
	assert_check(&rep, "subject-cn", 0);
	assert_check(&rep, "profile-key-type", 0);
	assert_check(&rep, "profile-subject", 1);
	assert_int_equal(csr_check(c, NULL, &rep), 0);
	csr_free(c);
	free(b.p);
	EVP_PKEY_free(k);
}

static void write_file(const char *path, const struct blob *b)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b->p, 1, b->len, f), b->len);
	assert_int_equal(fclose(f), 0);
}

/* csr_raw_load finds the subject and key as encoded, in DER and PEM; not a request: refused. */
static void test_csr_raw_finds_subject_and_key_bytes(void **state)
{
	EVP_PKEY *k = key_ec("P-384");
	struct blob der = make_req(k, EVP_sha384(), "Sub CA", NULL), pem = to_pem(&der);
	struct blob junk = {(uint8_t *)"\x30\x03\x02\x01\x00", 5};
	char path[] = "/tmp/cer-csr-raw-XXXXXX";
	unsigned char *spki = NULL, *subj = NULL;
	const unsigned char *p = der.p;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)der.len);
	struct csr_raw raw;
	int fd = mkstemp(path), n_spki, n_subj;

	(void)state;
	assert_true(fd >= 0 && req != NULL);
	close(fd);
	n_spki = i2d_PUBKEY(k, &spki);
	n_subj = i2d_X509_NAME(X509_REQ_get_subject_name(req), &subj);
	assert_true(n_spki > 0 && n_subj > 0);
	for (int pass = 0; pass < 2; pass++) {
		write_file(path, pass == 0 ? &der : &pem);
		assert_int_equal(csr_raw_load(path, &raw), 0);
		assert_int_equal(raw.spki_len, (size_t)n_spki);
		assert_memory_equal(raw.spki, spki, (size_t)n_spki);
		assert_int_equal(raw.subject_len, (size_t)n_subj);
		assert_memory_equal(raw.subject, subj, (size_t)n_subj);
		csr_raw_free(&raw);
		assert_null(raw.der);
	}
	write_file(path, &junk); /* a SEQUENCE holding an INTEGER: no request inside */
	assert_int_equal(csr_raw_load(path, &raw), CER_E_INPUT);
	assert_null(raw.der);
	cer_err_clear();
	unlink(path);
	OPENSSL_free(spki);
	OPENSSL_free(subj);
	X509_REQ_free(req);
	free(der.p);
	free(pem.p);
	EVP_PKEY_free(k);
}

static void test_csr_report_prints_ticks_and_crosses(void **state)
{
	struct csr_report rep;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	memset(&rep, 0, sizeof(rep));
	rep.n = 2;
	rep.n_failed = 1;
	snprintf(rep.checks[0].name, CSR_CHECK_NAME_MAX, "version");
	rep.checks[0].pass = 1;
	snprintf(rep.checks[1].name, CSR_CHECK_NAME_MAX, "key-size");
	snprintf(rep.checks[1].msg, CSR_CHECK_MSG_MAX, "RSA key of 1024 bits");
	csr_report_print(&rep, f);
	fclose(f);
	assert_string_equal(text, "  \u2713 version\n  \u2717 key-size: RSA key of 1024 bits\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csr_accepts_a_good_p256_request),
		cmocka_unit_test(test_csr_reads_each_key_kind_as_openssl_does),
		cmocka_unit_test(test_csr_refuses_trailing_bytes_and_indefinite_lengths),
		cmocka_unit_test(test_csr_takes_one_pem_block_and_nothing_else),
		cmocka_unit_test(test_csr_check_runs_every_check_and_names_each_failure),
		cmocka_unit_test(test_csr_refuses_the_root_key_and_known_keys),
		cmocka_unit_test(test_csr_profile_refuses_what_it_does_not_grant),
		cmocka_unit_test(test_csr_profile_subject_and_key_rules),
		cmocka_unit_test(test_csr_report_prints_ticks_and_crosses),
		cmocka_unit_test(test_csr_raw_finds_subject_and_key_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

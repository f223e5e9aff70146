/*
 * csr_fast: a request with an EC key on a named NIST curve, read without
 * OpenSSL 3.0's per-key decoder. d2i_X509_REQ decodes the key inside the
 * request through OSSL_DECODER_CTX_new_for_pkey, which collects every key
 * manager and decoder of the providers for each key (about 230 us a request,
 * most of a batch's checking time). Here the request is read by OpenSSL's ASN.1
 * templates with the key left as its AlgorithmIdentifier and BIT STRING, the
 * X509_REQ is rebuilt from those parts (the key's bytes set as they are), and
 * the key is imported with EVP_PKEY_fromdata (curve name and point; the import
 * checks the point is on the curve). The rebuilt request must re-encode to the
 * input byte for byte; anything else (RSA, other curves, compressed points, a
 * point the import refuses, any difference) goes the usual d2i_X509_REQ way, so
 * refusals read exactly as before.
 */
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "csr_int.h"

/* RFC 2986 4.1 / RFC 5280 4.1: the SubjectPublicKeyInfo as its two parts. */
typedef struct {
	X509_ALGOR *algorithm;
	ASN1_BIT_STRING *key;
} CSR_FAST_SPKI;

typedef struct {
	ASN1_INTEGER *version;
	X509_NAME *subject;
	CSR_FAST_SPKI *spki;
	STACK_OF(X509_ATTRIBUTE) *attributes;
} CSR_FAST_INFO;

typedef struct {
	CSR_FAST_INFO *info;
	X509_ALGOR *sig_alg;
	ASN1_BIT_STRING *signature;
} CSR_FAST;

ASN1_SEQUENCE(CSR_FAST_SPKI) = {
	ASN1_SIMPLE(CSR_FAST_SPKI, algorithm, X509_ALGOR),
	ASN1_SIMPLE(CSR_FAST_SPKI, key, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(CSR_FAST_SPKI)

/* As OpenSSL's X509_REQ_INFO: the attributes [0] as it takes them (the re-encoding
 * check below holds the request to DER). */
ASN1_SEQUENCE(CSR_FAST_INFO) = {
	ASN1_SIMPLE(CSR_FAST_INFO, version, ASN1_INTEGER),
	ASN1_SIMPLE(CSR_FAST_INFO, subject, X509_NAME),
	ASN1_SIMPLE(CSR_FAST_INFO, spki, CSR_FAST_SPKI),
	ASN1_IMP_SET_OF_OPT(CSR_FAST_INFO, attributes, X509_ATTRIBUTE, 0),
} static_ASN1_SEQUENCE_END(CSR_FAST_INFO)

ASN1_SEQUENCE(CSR_FAST) = {
	ASN1_SIMPLE(CSR_FAST, info, CSR_FAST_INFO),
	ASN1_SIMPLE(CSR_FAST, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(CSR_FAST, signature, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(CSR_FAST)

/* The named curve's OpenSSL name and field size for P-256, P-384, P-521, else NULL. */
static const char *fast_curve(const X509_ALGOR *alg, size_t *field_bytes)
{
	const ASN1_OBJECT *obj = NULL;
	const void *val = NULL;
	int type = V_ASN1_UNDEF;

	X509_ALGOR_get0(&obj, &type, &val, alg);
	if (OBJ_obj2nid(obj) != NID_X9_62_id_ecPublicKey || type != V_ASN1_OBJECT)
		return NULL;
	switch (OBJ_obj2nid(val)) {
	case NID_X9_62_prime256v1: *field_bytes = 32; return SN_X9_62_prime256v1;
	case NID_secp384r1: *field_bytes = 48; return SN_secp384r1;
	case NID_secp521r1: *field_bytes = 66; return SN_secp521r1;
	default: return NULL;
	}
}

/* The EC public key from its curve name and uncompressed point; NULL if refused. */
static EVP_PKEY *fast_key(const char *curve, const ASN1_BIT_STRING *point)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *key = NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)curve, 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point->data, (size_t)point->length),
		OSSL_PARAM_END,
	};

	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* A new X509_REQ holding exactly in's parts (copies); NULL on any failure. */
static X509_REQ *fast_rebuild(const CSR_FAST *in)
{
	const CSR_FAST_SPKI *s = in->info->spki;
	X509_REQ *req = X509_REQ_new();
	ASN1_OBJECT *alg = NULL, *params = NULL;
	unsigned char *bits = NULL;
	ASN1_BIT_STRING *sig = NULL;
	const ASN1_OBJECT *obj = NULL;
	const void *val = NULL;
	int type = V_ASN1_UNDEF, ok;
	long version = ASN1_INTEGER_get(in->info->version);

	X509_ALGOR_get0(&obj, &type, &val, s->algorithm);
	ok = req != NULL && version >= 0 && X509_REQ_set_version(req, version) &&
	     X509_REQ_set_subject_name(req, in->info->subject) &&
	     (alg = OBJ_dup(obj)) != NULL && (params = OBJ_dup(val)) != NULL &&
	     (bits = OPENSSL_memdup(s->key->data, (size_t)s->key->length)) != NULL;
	/* X509_PUBKEY_set0_param takes alg, the curve OID and the key bytes as they are. */
	if (ok && X509_PUBKEY_set0_param(X509_REQ_get_X509_PUBKEY(req), alg, V_ASN1_OBJECT,
					 params, bits, s->key->length) == 1)
		alg = NULL, params = NULL, bits = NULL;
	else
		ok = 0;
	for (int i = 0; ok && i < sk_X509_ATTRIBUTE_num(in->info->attributes); i++)
		ok = X509_REQ_add1_attr(req, sk_X509_ATTRIBUTE_value(in->info->attributes, i));
	ok = ok && X509_REQ_set1_signature_algo(req, in->sig_alg) &&
	     (sig = ASN1_STRING_dup(in->signature)) != NULL;
	if (ok) {
		X509_REQ_set0_signature(req, sig);
	} else {
		ASN1_BIT_STRING_free(sig);
		X509_REQ_free(req);
		req = NULL;
	}
	ASN1_OBJECT_free(alg);
	ASN1_OBJECT_free(params);
	OPENSSL_free(bits);
	return req;
}

int csr_parse_fast(struct csr *c)
{
	const unsigned char *p = c->der;
	CSR_FAST *in = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *key = NULL;
	unsigned char *re = NULL;
	const char *curve;
	size_t field = 0;
	int n, done = 0;

	ERR_set_mark();
	in = (CSR_FAST *)ASN1_item_d2i(NULL, &p, (long)c->der_len, ASN1_ITEM_rptr(CSR_FAST));
	if (in == NULL || p != c->der + c->der_len ||
	    (curve = fast_curve(in->info->spki->algorithm, &field)) == NULL ||
	    /* uncompressed only (RFC 5480 2.2): anything else is csr_check's to refuse */
	    (size_t)in->info->spki->key->length != 1 + 2 * field ||
	    in->info->spki->key->data[0] != 0x04 || (in->info->spki->key->flags & 0x07) != 0)
		goto out;
	if ((key = fast_key(curve, in->info->spki->key)) == NULL ||
	    (req = fast_rebuild(in)) == NULL)
		goto out;
	n = i2d_X509_REQ(req, &re);
	if (n <= 0 || (size_t)n != c->der_len || memcmp(re, c->der, c->der_len) != 0)
		goto out;
	c->req = req;
	c->pkey = key;
	c->pkey_owned = 1;
	req = NULL;
	key = NULL;
	done = 1;
out:
	ERR_pop_to_mark();
	OPENSSL_free(re);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	ASN1_item_free((ASN1_VALUE *)in, ASN1_ITEM_rptr(CSR_FAST));
	return done;
}

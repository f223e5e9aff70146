/*
 * certparse: a certificate's fields by OpenSSL's ASN.1 templates with its
 * SubjectPublicKeyInfo left as an AlgorithmIdentifier and a BIT STRING, the
 * X509 rebuilt from them (the key's bytes set as they are), and the rebuilt
 * certificate held to re-encode to the input byte for byte.
 */
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "ceremony/certparse.h"
#include "ceremony/err.h"

typedef struct {
	X509_ALGOR *algorithm;
	ASN1_BIT_STRING *key;
} CERTPARSE_SPKI;

/* RFC 5280 4.1. */
typedef struct {
	ASN1_INTEGER *version;
	ASN1_INTEGER *serial;
	X509_ALGOR *signature;
	X509_NAME *issuer;
	X509_VAL *validity;
	X509_NAME *subject;
	CERTPARSE_SPKI *spki;
	ASN1_BIT_STRING *issuer_uid;
	ASN1_BIT_STRING *subject_uid;
	STACK_OF(X509_EXTENSION) *extensions;
} CERTPARSE_TBS;

typedef struct {
	CERTPARSE_TBS *tbs;
	X509_ALGOR *sig_alg;
	ASN1_BIT_STRING *signature;
} CERTPARSE_CERT;

ASN1_SEQUENCE(CERTPARSE_SPKI) = {
	ASN1_SIMPLE(CERTPARSE_SPKI, algorithm, X509_ALGOR),
	ASN1_SIMPLE(CERTPARSE_SPKI, key, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(CERTPARSE_SPKI)

ASN1_SEQUENCE(CERTPARSE_TBS) = {
	ASN1_EXP_OPT(CERTPARSE_TBS, version, ASN1_INTEGER, 0),
	ASN1_SIMPLE(CERTPARSE_TBS, serial, ASN1_INTEGER),
	ASN1_SIMPLE(CERTPARSE_TBS, signature, X509_ALGOR),
	ASN1_SIMPLE(CERTPARSE_TBS, issuer, X509_NAME),
	ASN1_SIMPLE(CERTPARSE_TBS, validity, X509_VAL),
	ASN1_SIMPLE(CERTPARSE_TBS, subject, X509_NAME),
	ASN1_SIMPLE(CERTPARSE_TBS, spki, CERTPARSE_SPKI),
	ASN1_IMP_OPT(CERTPARSE_TBS, issuer_uid, ASN1_BIT_STRING, 1),
	ASN1_IMP_OPT(CERTPARSE_TBS, subject_uid, ASN1_BIT_STRING, 2),
	ASN1_EXP_SEQUENCE_OF_OPT(CERTPARSE_TBS, extensions, X509_EXTENSION, 3),
} static_ASN1_SEQUENCE_END(CERTPARSE_TBS)

ASN1_SEQUENCE(CERTPARSE_CERT) = {
	ASN1_SIMPLE(CERTPARSE_CERT, tbs, CERTPARSE_TBS),
	ASN1_SIMPLE(CERTPARSE_CERT, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(CERTPARSE_CERT, signature, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(CERTPARSE_CERT)

/* The key as its two parts, copied into x's own SubjectPublicKeyInfo. */
static int set_spki(X509 *x, const CERTPARSE_SPKI *s)
{
	const ASN1_OBJECT *obj = NULL;
	const void *val = NULL;
	int type = V_ASN1_UNDEF;
	ASN1_OBJECT *alg = NULL;
	void *params = NULL;
	unsigned char *bits = NULL;

	X509_ALGOR_get0(&obj, &type, &val, s->algorithm);
	if ((alg = OBJ_dup(obj)) == NULL || s->key->length <= 0 ||
	    (s->key->flags & 0x07) != 0) /* whole octets only */
		goto fail;
	if (type == V_ASN1_OBJECT)
		params = OBJ_dup(val);
	else if (type == V_ASN1_NULL || type == V_ASN1_UNDEF)
		params = NULL;
	else if (type == V_ASN1_SEQUENCE)
		params = ASN1_STRING_dup(val);
	else
		goto fail;
	if ((type == V_ASN1_OBJECT || type == V_ASN1_SEQUENCE) && params == NULL)
		goto fail;
	if ((bits = OPENSSL_memdup(s->key->data, (size_t)s->key->length)) == NULL ||
	    X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), alg, type, params, bits,
				   s->key->length) != 1)
		goto fail;
	return 1;
fail:
	OPENSSL_free(bits);
	if (type == V_ASN1_OBJECT)
		ASN1_OBJECT_free(params);
	else
		ASN1_STRING_free(params);
	ASN1_OBJECT_free(alg);
	return 0;
}

/*
 * The X509 of in's parts. OpenSSL 3.0 has setters for every field but the two
 * signature algorithms and the signature: X509_get0_signature and
 * X509_get0_tbs_sigalg hand out x's own (const-qualified) fields, which this new
 * object lets us fill once; nothing has read or cached them yet.
 */
static X509 *rebuild(const CERTPARSE_CERT *in)
{
	const CERTPARSE_TBS *t = in->tbs;
	X509 *x = X509_new();
	const ASN1_BIT_STRING *sig = NULL;
	const X509_ALGOR *alg = NULL;
	long version = t->version != NULL ? ASN1_INTEGER_get(t->version) : 0;
	int ok;

	ok = x != NULL && t->issuer_uid == NULL && t->subject_uid == NULL &&
	     version >= 0 && version <= 2 && X509_set_version(x, version) &&
	     X509_set_serialNumber(x, t->serial) && X509_set_issuer_name(x, t->issuer) &&
	     X509_set_subject_name(x, t->subject) && X509_set1_notBefore(x, t->validity->notBefore) &&
	     X509_set1_notAfter(x, t->validity->notAfter) && set_spki(x, t->spki);
	for (int i = 0; ok && i < sk_X509_EXTENSION_num(t->extensions); i++)
		ok = X509_add_ext(x, sk_X509_EXTENSION_value(t->extensions, i), -1);
	if (ok) {
		X509_get0_signature(&sig, &alg, x);
		ok = X509_ALGOR_copy((X509_ALGOR *)X509_get0_tbs_sigalg(x), t->signature) &&
		     X509_ALGOR_copy((X509_ALGOR *)alg, in->sig_alg) &&
		     ASN1_STRING_copy((ASN1_BIT_STRING *)sig, in->signature);
	}
	if (!ok) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* x re-encodes to exactly der. */
static int same_der(X509 *x, const uint8_t *der, size_t len)
{
	unsigned char *re = NULL;
	int n = i2d_X509(x, &re), same = n > 0 && (size_t)n == len && memcmp(re, der, len) == 0;

	OPENSSL_free(re);
	return same;
}

int certparse_der(const uint8_t *der, size_t len, X509 **out)
{
	const unsigned char *p = der;
	CERTPARSE_CERT *in = NULL;
	X509 *x = NULL;
	int r = 0;

	*out = NULL;
	ERR_set_mark();
	in = (CERTPARSE_CERT *)ASN1_item_d2i(NULL, &p, (long)len, ASN1_ITEM_rptr(CERTPARSE_CERT));
	if (in != NULL && p == der + len && (x = rebuild(in)) != NULL && !same_der(x, der, len)) {
		X509_free(x);
		x = NULL;
	}
	ASN1_item_free((ASN1_VALUE *)in, ASN1_ITEM_rptr(CERTPARSE_CERT));
	ERR_pop_to_mark();
	if (x == NULL) { /* the usual way, key and all */
		p = der;
		x = d2i_X509(NULL, &p, (long)len);
		if (x == NULL || p != der + len || !same_der(x, der, len))
			r = cer_err_ssl(CER_E_VERIFY, "the certificate does not decode as built");
	}
	if (r != 0) {
		X509_free(x);
		return r;
	}
	*out = x;
	return 0;
}

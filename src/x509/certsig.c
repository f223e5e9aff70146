/* certsig: a certificate's signature under its issuer's key, decoded once (certsig.h). */
#include <stdlib.h>
#include <string.h>

#include <nettle/bignum.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ceremony/certsig.h"
#include "ceremony/err.h"

struct certsig_key {
	X509 *issuer;
	EVP_PKEY *pkey; /* the issuer's (X509_get0_pubkey) */
	int fast;       /* Nettle checks: an EC P-256 or P-384 key on its curve */
	struct ecc_point pub;
	EVP_MD *sha256, *sha384;
	X509_STORE_CTX_verify_fn openssl_pass; /* OpenSSL's own, for any other chain */
};

/* An unsigned big-endian BIGNUM as a GMP integer (Nettle's). */
static int bn_to_mpz(const BIGNUM *bn, mpz_t z)
{
	unsigned char buf[128];
	int n = BN_num_bytes(bn);

	if (n < 0 || (size_t)n > sizeof(buf) || BN_bn2bin(bn, buf) != n)
		return -1;
	nettle_mpz_set_str_256_u(z, (size_t)n, buf);
	return 0;
}

/* The issuer's EC point for Nettle, when its curve is one Nettle checks here. */
static void key_fast(struct certsig_key *k)
{
	char group[64];
	const struct ecc_curve *curve = NULL;
	BIGNUM *x = NULL, *y = NULL;
	mpz_t mx, my;

	if (!EVP_PKEY_is_a(k->pkey, "EC") ||
	    !EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
					    sizeof(group), NULL))
		goto out;
	if (strcmp(group, "prime256v1") == 0)
		curve = nettle_get_secp_256r1();
	else if (strcmp(group, "secp384r1") == 0)
		curve = nettle_get_secp_384r1();
	if (curve == NULL || !EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
	    !EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y))
		goto out;
	mpz_init(mx);
	mpz_init(my);
	ecc_point_init(&k->pub, curve);
	/* ecc_point_set refuses a point that is not on the curve: OpenSSL judges those. */
	if (bn_to_mpz(x, mx) == 0 && bn_to_mpz(y, my) == 0 && ecc_point_set(&k->pub, mx, my))
		k->fast = 1;
	else
		ecc_point_clear(&k->pub);
	mpz_clear(mx);
	mpz_clear(my);
out:
	BN_free(x);
	BN_free(y);
	ERR_clear_error();
}

int certsig_key_new(X509 *issuer, struct certsig_key **out)
{
	struct certsig_key *k = calloc(1, sizeof(*k));

	*out = NULL;
	if (k == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if ((k->pkey = X509_get0_pubkey(issuer)) == NULL) {
		free(k);
		return cer_err_ssl(CER_E_CRYPTO, "cannot read the issuer's public key");
	}
	if (X509_up_ref(issuer) != 1) {
		free(k);
		return cer_err(CER_E_NOMEM, "out of memory");
	}
	k->issuer = issuer;
	k->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	k->sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
	if (k->sha256 != NULL && k->sha384 != NULL)
		key_fast(k);
	*out = k;
	return 0;
}

void certsig_key_free(struct certsig_key *k)
{
	if (k == NULL)
		return;
	if (k->fast)
		ecc_point_clear(&k->pub);
	EVP_MD_free(k->sha256);
	EVP_MD_free(k->sha384);
	X509_free(k->issuer);
	free(k);
}

X509 *certsig_key_issuer(const struct certsig_key *k)
{
	return k->issuer;
}

int certsig_key_fast(const struct certsig_key *k)
{
	return k->fast;
}

/* The TBSCertificate's own bytes: the first element of the certificate's DER
 * (i2d_X509 writes the TBS as it was read, as X509_verify signs it). */
static int tbs_bytes(const unsigned char *der, long len, const unsigned char **tbs,
		     size_t *tbs_len)
{
	const unsigned char *p = der, *start;
	long n = 0;
	int tag = 0, xclass = 0, ret;

	ret = ASN1_get_object(&p, &n, &tag, &xclass, len);
	if ((ret & 0x80) != 0 || ret != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE)
		return -1;
	start = p;
	ret = ASN1_get_object(&p, &n, &tag, &xclass, len - (p - der));
	if ((ret & 0x80) != 0 || ret != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE)
		return -1;
	*tbs = start;
	*tbs_len = (size_t)(p - start) + (size_t)n;
	return 0;
}

/* ECDSA with Nettle over tbs: its digest, the DER signature (r, s) in sig. */
static int verify_fast_bytes(const struct certsig_key *k, const EVP_MD *md, const unsigned char *tbs,
			     size_t tbs_len, const unsigned char *sig, size_t sig_len)
{
	unsigned char *redo = NULL, h[EVP_MAX_MD_SIZE];
	const unsigned char *q = sig;
	const BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG *es = NULL;
	struct dsa_signature ds;
	unsigned hl = 0;
	int redo_len, ok = 0;

	dsa_signature_init(&ds);
	if (sig_len > 1024 || EVP_Digest(tbs, tbs_len, h, &hl, md, NULL) != 1)
		goto out;
	/* As OpenSSL's ECDSA: DER only, nothing after it, r and s positive. */
	if ((es = d2i_ECDSA_SIG(NULL, &q, (long)sig_len)) == NULL ||
	    (redo_len = i2d_ECDSA_SIG(es, &redo)) != (int)sig_len ||
	    memcmp(redo, sig, sig_len) != 0)
		goto out;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_is_negative(r) || BN_is_negative(s) || bn_to_mpz(r, ds.r) != 0 ||
	    bn_to_mpz(s, ds.s) != 0)
		goto out;
	/* Nettle refuses r or s outside 1..n-1. */
	ok = ecdsa_verify(&k->pub, hl, h, &ds) == 1;
out:
	dsa_signature_clear(&ds);
	ECDSA_SIG_free(es);
	OPENSSL_free(redo);
	ERR_clear_error();
	return ok;
}

/* The same for a certificate: its own TBS bytes and its signature BIT STRING. */
static int verify_fast(const struct certsig_key *k, X509 *x, const EVP_MD *md,
		       const ASN1_BIT_STRING *sig)
{
	unsigned char *der = NULL;
	const unsigned char *tbs = NULL;
	size_t tbs_len = 0;
	int n, ok = 0;

	if ((n = i2d_X509(x, &der)) > 0 && tbs_bytes(der, n, &tbs, &tbs_len) == 0)
		ok = verify_fast_bytes(k, md, tbs, tbs_len, ASN1_STRING_get0_data(sig),
				       (size_t)ASN1_STRING_length(sig));
	OPENSSL_free(der);
	ERR_clear_error();
	return ok;
}

int certsig_verify_tbs(const struct certsig_key *k, const EVP_MD *md, const uint8_t *tbs,
		       size_t tbs_len, const uint8_t *sig, size_t sig_len)
{
	const EVP_MD *mine = NULL;
	EVP_MD_CTX *mctx;
	int ok;

	if (k->fast && EVP_MD_is_a(md, "SHA256"))
		mine = k->sha256;
	else if (k->fast && EVP_MD_is_a(md, "SHA384"))
		mine = k->sha384;
	if (mine != NULL)
		return verify_fast_bytes(k, mine, tbs, tbs_len, sig, sig_len);
	mctx = EVP_MD_CTX_new();
	ok = mctx != NULL && EVP_DigestVerifyInit(mctx, NULL, md, NULL, k->pkey) == 1 &&
	     EVP_DigestVerify(mctx, sig, sig_len, tbs, tbs_len) == 1;
	EVP_MD_CTX_free(mctx);
	ERR_clear_error();
	return ok;
}

int certsig_verify(const struct certsig_key *k, X509 *x)
{
	const ASN1_BIT_STRING *sig = NULL;
	const X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *oid = NULL;
	const EVP_MD *md = NULL;
	int ptype = V_ASN1_UNDEF, ok;

	X509_get0_signature(&sig, &alg, x);
	/* RFC 5280 4.1.1.2: the outer algorithm is the one the TBS names (X509_verify's rule). */
	if (sig == NULL || alg == NULL || X509_ALGOR_cmp(alg, X509_get0_tbs_sigalg(x)) != 0)
		return 0;
	X509_ALGOR_get0(&oid, &ptype, NULL, alg);
	if (k->fast && ptype == V_ASN1_UNDEF && OBJ_obj2nid(oid) == NID_ecdsa_with_SHA256)
		md = k->sha256;
	else if (k->fast && ptype == V_ASN1_UNDEF && OBJ_obj2nid(oid) == NID_ecdsa_with_SHA384)
		md = k->sha384;
	if (md == NULL) {
		ok = X509_verify(x, k->pkey) == 1;
		ERR_clear_error();
		return ok;
	}
	/* A BIT STRING signature with unused bits is refused, as by ASN1_item_verify. */
	if ((sig->flags & 0x07) != 0)
		return 0;
	return verify_fast(k, x, md, sig);
}

/* OpenSSL's failure report: the error, the certificate and depth, the callback's say. */
static int chain_fail(X509_STORE_CTX *ctx, X509 *x, int depth, int err)
{
	X509_STORE_CTX_set_error_depth(ctx, depth);
	X509_STORE_CTX_set_current_cert(ctx, x);
	X509_STORE_CTX_set_error(ctx, err);
	return X509_STORE_CTX_get_verify_cb(ctx)(0, ctx);
}

/* RFC 5280 6.1.3 (a)(2), as OpenSSL checks it for every certificate, anchor included. */
static int chain_time(X509_STORE_CTX *ctx, X509 *x, int depth)
{
	X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
	unsigned long flags = X509_VERIFY_PARAM_get_flags(vp);
	time_t t = X509_VERIFY_PARAM_get_time(vp), *when = NULL;
	int i;

	if ((flags & X509_V_FLAG_USE_CHECK_TIME) != 0)
		when = &t;
	else if ((flags & X509_V_FLAG_NO_CHECK_TIME) != 0)
		return 1;
	i = X509_cmp_time(X509_get0_notBefore(x), when);
	if (i == 0 && !chain_fail(ctx, x, depth, X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD))
		return 0;
	if (i > 0 && !chain_fail(ctx, x, depth, X509_V_ERR_CERT_NOT_YET_VALID))
		return 0;
	i = X509_cmp_time(X509_get0_notAfter(x), when);
	if (i == 0 && !chain_fail(ctx, x, depth, X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD))
		return 0;
	if (i < 0 && !chain_fail(ctx, x, depth, X509_V_ERR_CERT_HAS_EXPIRED))
		return 0;
	return 1;
}

/*
 * The path validation's signature-and-time pass for [leaf, self-signed anchor], the
 * anchor being the key's issuer: as OpenSSL's own pass (x509_vfy.c internal_verify),
 * the anchor's self-signature is not checked (X509_V_FLAG_CHECK_SS_SIGNATURE unset),
 * the anchor's keyUsage must allow keyCertSign, the leaf's signature must verify
 * (here with the key decoded once), and both certificates must be valid at the
 * validation's time. Any other chain or flag: OpenSSL's own pass.
 */
static int chain_pass(X509_STORE_CTX *ctx)
{
	struct certsig_key *k = X509_STORE_CTX_get_app_data(ctx);
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
	X509 *leaf, *top;

	if (k == NULL)
		return 0;
	if (sk_X509_num(chain) != 2 ||
	    (X509_VERIFY_PARAM_get_flags(vp) &
	     (X509_V_FLAG_CHECK_SS_SIGNATURE | X509_V_FLAG_PARTIAL_CHAIN)) != 0 ||
	    X509_VERIFY_PARAM_get_auth_level(vp) > 0)
		return k->openssl_pass(ctx);
	leaf = sk_X509_value(chain, 0);
	top = sk_X509_value(chain, 1);
	if (X509_cmp(top, k->issuer) != 0 || X509_check_issued(top, top) != X509_V_OK ||
	    (X509_get_extension_flags(leaf) & EXFLAG_PROXY) != 0)
		return k->openssl_pass(ctx);
	if (!chain_time(ctx, top, 1))
		return 0;
	/* RFC 5280 6.1.4 (n): the issuer's keyUsage, if any, allows certificate signing. */
	if ((X509_get_key_usage(top) & KU_KEY_CERT_SIGN) == 0 &&
	    !chain_fail(ctx, top, 1, X509_V_ERR_KEYUSAGE_NO_CERTSIGN))
		return 0;
	if (!certsig_verify(k, leaf) && !chain_fail(ctx, leaf, 0, X509_V_ERR_CERT_SIGNATURE_FAILURE))
		return 0;
	return chain_time(ctx, leaf, 0);
}

int certsig_path_setup(X509_STORE_CTX *ctx, void *arg)
{
	struct certsig_key *k = arg;

	k->openssl_pass = X509_STORE_CTX_get_verify(ctx);
	if (k->openssl_pass == NULL || !X509_STORE_CTX_set_app_data(ctx, k))
		return cer_err(CER_E_INTERNAL, "cannot set up the path validation");
	X509_STORE_CTX_set_verify(ctx, chain_pass);
	return 0;
}

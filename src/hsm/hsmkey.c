/*
 * OpenSSL 3 still runs a key with its own EC_KEY_METHOD / RSA_METHOD through
 * the legacy signing path ("foreign" keys), which is what we want here: the
 * methods are deprecated in 3.0 but kept, and the alternative (a provider)
 * would be a few hundred lines of dispatch tables for two sign functions.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "ceremony/err.h"
#include "ceremony/hsmkey.h"
#include "p11_int.h"

/* ex_data index 0 is OpenSSL's reserved "app data" slot: no global index to allocate. */
#define HSMKEY_EX_INDEX 0
/* RSA-4096 and P-384 (2 x 48) signatures both fit. */
#define HSMKEY_SIG_MAX 512

struct hsmkey {
	struct p11_session *s;
	struct p11key key;
	EVP_PKEY *pkey;
	EC_KEY_METHOD *ec_method;
	RSA_METHOD *rsa_method;
};

const EVP_MD *hsmkey_digest(enum key_type t)
{
	return EVP_get_digestbynid(key_type_info(t)->digest_nid);
}

/* C_SignInit + C_Sign with mech; a failure goes into the OpenSSL error queue with its CKR_ name. */
static int hsmkey_sign_raw(struct hsmkey *h, CK_MECHANISM_TYPE mech, const uint8_t *in,
			   size_t in_len, uint8_t *sig, CK_ULONG *sig_len)
{
	CK_MECHANISM m = {mech, NULL, 0};
	struct p11_session *s = h->s;
	const char *step = "C_SignInit";
	CK_RV rv;

	rv = s->f->C_SignInit(s->handle, &m, h->key.priv);
	if (rv == CKR_OK) {
		step = "C_Sign";
		rv = s->f->C_Sign(s->handle, (CK_BYTE_PTR)in, (CK_ULONG)in_len, sig, sig_len);
	}
	if (rv == CKR_OK)
		return 0;
	ERR_raise_data(ERR_LIB_USER, ERR_R_OPERATION_FAIL,
		       "token \"%s\": key \"%s\": %s: %s (%s%s)", s->token.label, h->key.label,
		       step, p11_rv_str(rv), p11_rv_name(rv) != NULL ? p11_rv_name(rv) : "CKR 0x",
		       p11_rv_name(rv) != NULL ? "" : "unknown");
	return -1;
}

static ECDSA_SIG *ec_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv,
			      const BIGNUM *rp, EC_KEY *ec)
{
	struct hsmkey *h = EC_KEY_get_ex_data(ec, HSMKEY_EX_INDEX);
	uint8_t sig[HSMKEY_SIG_MAX];
	CK_ULONG len = sizeof(sig);
	ECDSA_SIG *out = NULL;
	BIGNUM *r = NULL, *s = NULL;

	(void)kinv; /* the HSM picks its own nonce */
	(void)rp;
	if (h == NULL || dlen < 0 || hsmkey_sign_raw(h, CKM_ECDSA, dgst, (size_t)dlen, sig, &len) != 0)
		return NULL;
	/* PKCS#11 2.40 2.3.1: the signature is r || s, each as long as the order. */
	if (len == 0 || len % 2 != 0) {
		ERR_raise_data(ERR_LIB_USER, ERR_R_OPERATION_FAIL,
			       "token \"%s\": ECDSA signature of odd length %lu", h->s->token.label,
			       (unsigned long)len);
		return NULL;
	}
	r = BN_bin2bn(sig, (int)(len / 2), NULL);
	s = BN_bin2bn(sig + len / 2, (int)(len / 2), NULL);
	if (r == NULL || s == NULL || (out = ECDSA_SIG_new()) == NULL ||
	    ECDSA_SIG_set0(out, r, s) != 1) {
		ECDSA_SIG_free(out);
		BN_free(r);
		BN_free(s);
		return NULL;
	}
	return out;
}

/* The DER ECDSA-Sig-Value form OpenSSL's ECDSA_sign wants. */
static int ec_sign(int type, const unsigned char *dgst, int dlen, unsigned char *sig,
		   unsigned int *siglen, const BIGNUM *kinv, const BIGNUM *r, EC_KEY *ec)
{
	ECDSA_SIG *es = ec_sign_sig(dgst, dlen, kinv, r, ec);
	unsigned char *p = sig;
	int n;

	(void)type;
	if (es == NULL)
		return 0;
	n = i2d_ECDSA_SIG(es, &p); /* sig holds ECDSA_size(ec) bytes, the DER maximum */
	ECDSA_SIG_free(es);
	if (n <= 0)
		return 0;
	*siglen = (unsigned int)n;
	return 1;
}

static int ec_sign_setup(EC_KEY *ec, BN_CTX *ctx, BIGNUM **kinv, BIGNUM **r)
{
	(void)ec;
	(void)ctx;
	(void)kinv;
	(void)r;
	return 1; /* nothing to precompute: the nonce is the HSM's */
}

/*
 * RSA_sign hands over DigestInfo(hash) with RSA_PKCS1_PADDING: CKM_RSA_PKCS
 * applies exactly that block-type-1 padding (RFC 8017 9.2). Nothing else is asked.
 */
static int rsa_priv_enc(int flen, const unsigned char *from, unsigned char *to, RSA *rsa,
			int padding)
{
	struct hsmkey *h = RSA_get_ex_data(rsa, HSMKEY_EX_INDEX);
	CK_ULONG len = (CK_ULONG)RSA_size(rsa);

	if (h == NULL || flen < 0)
		return -1;
	if (padding != RSA_PKCS1_PADDING) {
		ERR_raise_data(ERR_LIB_USER, ERR_R_OPERATION_FAIL,
			       "token \"%s\": key \"%s\" signs only with RSASSA-PKCS1-v1_5",
			       h->s->token.label, h->key.label);
		return -1;
	}
	if (hsmkey_sign_raw(h, CKM_RSA_PKCS, from, (size_t)flen, to, &len) != 0)
		return -1;
	return (int)len;
}

static int hsmkey_wrap_ec(struct hsmkey *h, EVP_PKEY *pub)
{
	EC_KEY *ec = EVP_PKEY_get1_EC_KEY(pub);

	if (ec == NULL)
		return cer_err_ssl(CER_E_CRYPTO, "key \"%s\": not an EC public key", h->key.label);
	if ((h->ec_method = EC_KEY_METHOD_new(EC_KEY_OpenSSL())) == NULL)
		goto fail;
	EC_KEY_METHOD_set_sign(h->ec_method, ec_sign, ec_sign_setup, ec_sign_sig);
	if (EC_KEY_set_method(ec, h->ec_method) != 1 ||
	    EC_KEY_set_ex_data(ec, HSMKEY_EX_INDEX, h) != 1 || (h->pkey = EVP_PKEY_new()) == NULL ||
	    EVP_PKEY_assign_EC_KEY(h->pkey, ec) != 1)
		goto fail;
	return 0;
fail:
	EC_KEY_free(ec);
	return cer_err_ssl(CER_E_CRYPTO, "key \"%s\": cannot build the HSM-backed EC key",
			   h->key.label);
}

static int hsmkey_wrap_rsa(struct hsmkey *h, EVP_PKEY *pub)
{
	RSA *rsa = EVP_PKEY_get1_RSA(pub);

	if (rsa == NULL)
		return cer_err_ssl(CER_E_CRYPTO, "key \"%s\": not an RSA public key", h->key.label);
	if ((h->rsa_method = RSA_meth_dup(RSA_PKCS1_OpenSSL())) == NULL ||
	    RSA_meth_set1_name(h->rsa_method, "ceremony hsmkey") != 1 ||
	    RSA_meth_set_priv_enc(h->rsa_method, rsa_priv_enc) != 1 ||
	    RSA_set_method(rsa, h->rsa_method) != 1 || RSA_set_ex_data(rsa, HSMKEY_EX_INDEX, h) != 1 ||
	    (h->pkey = EVP_PKEY_new()) == NULL || EVP_PKEY_assign_RSA(h->pkey, rsa) != 1) {
		RSA_free(rsa);
		return cer_err_ssl(CER_E_CRYPTO, "key \"%s\": cannot build the HSM-backed RSA key",
				   h->key.label);
	}
	return 0;
}

int hsmkey_open(struct p11_session *s, const struct p11key *key, struct hsmkey **out)
{
	struct hsmkey *h;
	uint8_t *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	EVP_PKEY *pub = NULL;
	int r;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	h->s = s;
	h->key = *key;
	if ((r = p11key_spki(s, key, &der, &len)) != 0)
		goto fail;
	p = der;
	if ((pub = d2i_PUBKEY(NULL, &p, (long)len)) == NULL) {
		r = cer_err_ssl(CER_E_P11, "token \"%s\": key \"%s\": cannot decode its public key",
				s->token.label, key->label);
		goto fail;
	}
	r = key_type_info(key->type)->is_ec ? hsmkey_wrap_ec(h, pub) : hsmkey_wrap_rsa(h, pub);
	if (r != 0)
		goto fail;
	*out = h;
	r = 0;
	goto out;
fail:
	hsmkey_free(h);
out:
	EVP_PKEY_free(pub);
	free(der);
	return r;
}

/* The key's public half as the token gives it now; a decoding failure is the token's too. */
static int token_pubkey(struct p11_session *s, const struct p11key *key, EVP_PKEY **out)
{
	uint8_t *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = p11key_spki(s, key, &der, &len)) != 0)
		return r;
	p = der;
	if ((*out = d2i_PUBKEY(NULL, &p, (long)len)) == NULL)
		r = cer_err_ssl(CER_E_P11, "token \"%s\": key \"%s\": cannot decode its public key",
				s->token.label, key->label);
	free(der);
	return r;
}

static int cert_check(struct p11_session *s, const struct p11key *key, EVP_PKEY *first, X509 *cert,
		      const char *cert_name, const char *nothing)
{
	EVP_PKEY *again = NULL;
	int r;

	if (EVP_PKEY_eq(X509_get0_pubkey(cert), first) == 1)
		return 0;
	/* Before blaming the operator's file, ask the token again: a fault is the token's. */
	if ((r = token_pubkey(s, key, &again)) != 0) {
		cer_err_prefix("reading key \"%s\" again to compare it with %s: ", key->label, cert_name);
		return r;
	}
	if (EVP_PKEY_eq(again, first) != 1)
		r = cer_err(CER_E_P11, "token \"%s\" gave two different public keys for key \"%s\" "
				       "(the token is failing, not %s); %s",
			    s->token.label, key->label, cert_name, nothing);
	else
		r = cer_err(CER_E_REFUSED, "%s is not the certificate of key \"%s\"; %s",
			    cert_name, key->label, nothing);
	EVP_PKEY_free(again);
	return r;
}

int hsmkey_cert_check(struct hsmkey *h, X509 *cert, const char *cert_name, const char *nothing)
{
	return cert_check(h->s, &h->key, h->pkey, cert, cert_name, nothing);
}

int hsmkey_cert_check_key(struct p11_session *s, const struct p11key *key, X509 *cert,
			  const char *cert_name, const char *nothing)
{
	EVP_PKEY *pub = NULL;
	int r;

	if ((r = token_pubkey(s, key, &pub)) != 0)
		return r;
	r = cert_check(s, key, pub, cert, cert_name, nothing);
	EVP_PKEY_free(pub);
	return r;
}

EVP_PKEY *hsmkey_pkey(struct hsmkey *h)
{
	return h->pkey;
}

void hsmkey_free(struct hsmkey *h)
{
	if (h == NULL)
		return;
	EVP_PKEY_free(h->pkey); /* before the methods it uses */
	if (h->ec_method != NULL) /* OpenSSL 3.0's EC_KEY_METHOD_free does not take NULL */
		EC_KEY_METHOD_free(h->ec_method);
	RSA_meth_free(h->rsa_method);
	free(h);
}

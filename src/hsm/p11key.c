#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/p11key.h"

static int key_is_ec(enum key_type t)
{
	return key_type_info(t)->is_ec;
}

const char *p11key_mechanism_name(CK_ULONG mech)
{
	switch (mech) {
	case CKM_EC_KEY_PAIR_GEN: return "CKM_EC_KEY_PAIR_GEN";
	case CKM_RSA_PKCS_KEY_PAIR_GEN: return "CKM_RSA_PKCS_KEY_PAIR_GEN";
	case CK_UNAVAILABLE_INFORMATION: return "unavailable";
	default: return "other";
	}
}

int p11key_name_taken(struct p11_session *s, const char *label, const uint8_t *id,
		      size_t id_len, int *taken)
{
	CK_OBJECT_HANDLE h[4];
	size_t n = 0;
	int r;

	*taken = 0;
	if (label != NULL) {
		CK_ATTRIBUTE t[] = {{CKA_LABEL, (void *)label, strlen(label)}};
		if ((r = p11_objects_find(s, t, 1, h, 4, &n)) != 0)
			return r;
		*taken += (int)n;
	}
	if (id != NULL) {
		CK_ATTRIBUTE t[] = {{CKA_ID, (void *)id, id_len}};
		if ((r = p11_objects_find(s, t, 1, h, 4, &n)) != 0)
			return r;
		*taken += (int)n;
	}
	return 0;
}

int p11key_destroy(struct p11_session *s, const struct p11key *k, CK_RV *first)
{
	CK_RV a = CKR_OK, b = CKR_OK;

	/* The caller's error message stays: only the CK_RV comes back. */
	if (k->priv != CK_INVALID_HANDLE)
		a = s->f->C_DestroyObject(s->handle, k->priv);
	if (k->pub != CK_INVALID_HANDLE)
		b = s->f->C_DestroyObject(s->handle, k->pub);
	*first = a != CKR_OK ? a : b;
	return *first == CKR_OK ? 0 : CER_E_P11;
}

int p11key_discard(struct p11_session *s, const struct p11key *k)
{
	CK_RV destroy_rv;
	int gone = p11key_destroy(s, k, &destroy_rv) == 0;
	char id_hex[2 * sizeof(k->id) + 1];
	const char *name = p11_rv_name(destroy_rv);

	hex_encode(k->id, k->id_len < sizeof(k->id) ? k->id_len : sizeof(k->id), id_hex);
	if (destroy_rv == CKR_OK)
		cer_err_prefix("token \"%s\": key pair \"%s\" destroyed, nothing left: ",
			       s->token.label, k->label);
	else if (name != NULL)
		cer_err_prefix("token \"%s\": key pair \"%s\" (CKA_ID %s) is LEFT on the token, "
			       "destroying it failed (%s): ",
			       s->token.label, k->label, id_hex, name);
	else
		cer_err_prefix("token \"%s\": key pair \"%s\" (CKA_ID %s) is LEFT on the token, "
			       "destroying it failed (0x%lx): ",
			       s->token.label, k->label, id_hex, (unsigned long)destroy_rv);
	return gone ? 0 : CER_E_P11;
}

int p11key_generate(struct p11_session *s, const char *label, enum key_type type,
		    struct p11key *out, struct p11key_evidence *ev)
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_CLASS pub_class = CKO_PUBLIC_KEY, priv_class = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = key_is_ec(type) ? CKK_EC : CKK_RSA;
	CK_ULONG bits = key_type_info(type)->bits;
	uint8_t exponent[] = {0x01, 0x00, 0x01};
	const uint8_t *curve = key_type_info(type)->ec_params;
	size_t curve_len = key_type_info(type)->ec_params_len;
	CK_MECHANISM mech = {key_is_ec(type) ? CKM_EC_KEY_PAIR_GEN : CKM_RSA_PKCS_KEY_PAIR_GEN,
			     NULL, 0};
	uint8_t id[P11KEY_ID_LEN];
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
	size_t label_len = strlen(label);
	CK_ULONG npub;
	CK_RV rv;
	int r, taken;

	if (label_len == 0 || label_len > P11KEY_LABEL_MAX)
		return cer_err(CER_E_INPUT, "key label must be 1 to %d bytes", P11KEY_LABEL_MAX);
	/* A random CKA_ID: tools that pair keys by ID alone (libp11, OpenSC) must find this pair. */
	if ((r = p11_random_mixed(s, id, sizeof(id))) != 0)
		return r;
	if ((r = p11key_name_taken(s, label, id, sizeof(id), &taken)) != 0)
		return r;
	if (taken)
		return cer_err(CER_E_EXISTS,
			       "token \"%s\" already has an object labelled \"%s\"; no key was "
			       "generated",
			       s->token.label, label);

	CK_ATTRIBUTE pub_ec[] = {
		{CKA_CLASS, &pub_class, sizeof(pub_class)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_TOKEN, &yes, sizeof(yes)},		    {CKA_PRIVATE, &no, sizeof(no)},
		{CKA_VERIFY, &yes, sizeof(yes)},	    {CKA_ENCRYPT, &no, sizeof(no)},
		{CKA_WRAP, &no, sizeof(no)},		    {CKA_DERIVE, &no, sizeof(no)},
		{CKA_LABEL, (void *)label, label_len},	    {CKA_ID, id, sizeof(id)},
		{CKA_EC_PARAMS, (void *)curve, curve_len},
	};
	CK_ATTRIBUTE pub_rsa[] = {
		{CKA_CLASS, &pub_class, sizeof(pub_class)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_TOKEN, &yes, sizeof(yes)},		    {CKA_PRIVATE, &no, sizeof(no)},
		{CKA_VERIFY, &yes, sizeof(yes)},	    {CKA_ENCRYPT, &no, sizeof(no)},
		{CKA_WRAP, &no, sizeof(no)},		    {CKA_DERIVE, &no, sizeof(no)},
		{CKA_LABEL, (void *)label, label_len},	    {CKA_ID, id, sizeof(id)},
		{CKA_MODULUS_BITS, &bits, sizeof(bits)},    {CKA_PUBLIC_EXPONENT, exponent, 3},
	};
	/* DESIGN.md "Root key template": exportable only wrapped under an SO-trusted KEK. */
	CK_ATTRIBUTE priv_tmpl[] = {
		{CKA_CLASS, &priv_class, sizeof(priv_class)},
		{CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_PRIVATE, &yes, sizeof(yes)},
		{CKA_SENSITIVE, &yes, sizeof(yes)},
		{CKA_EXTRACTABLE, &yes, sizeof(yes)},
		{CKA_WRAP_WITH_TRUSTED, &yes, sizeof(yes)},
		{CKA_SIGN, &yes, sizeof(yes)},
		{CKA_SIGN_RECOVER, &no, sizeof(no)},
		{CKA_DECRYPT, &no, sizeof(no)},
		{CKA_UNWRAP, &no, sizeof(no)},
		{CKA_DERIVE, &no, sizeof(no)},
		{CKA_LABEL, (void *)label, label_len},
		{CKA_ID, id, sizeof(id)},
	};
	npub = key_is_ec(type) ? sizeof(pub_ec) / sizeof(pub_ec[0])
			       : sizeof(pub_rsa) / sizeof(pub_rsa[0]);
	rv = s->f->C_GenerateKeyPair(s->handle, &mech, key_is_ec(type) ? pub_ec : pub_rsa, npub,
				     priv_tmpl, sizeof(priv_tmpl) / sizeof(priv_tmpl[0]), &pub,
				     &priv);
	if (rv != CKR_OK)
		return p11_err(rv, "token \"%s\": generating %s key \"%s\"", s->token.label,
			       key_type_name(type), label);
	memset(out, 0, sizeof(*out));
	out->type = type;
	out->priv = priv;
	out->pub = pub;
	memcpy(out->id, id, sizeof(id));
	out->id_len = sizeof(id);
	memcpy(out->label, label, label_len + 1);
	if ((r = p11key_evidence_read(s, out, ev)) != 0 ||
	    (r = p11key_evidence_check(ev, 1)) != 0) {
		/* Not what was asked: do not leave a key that could be mistaken for the root. */
		if (p11key_discard(s, out) == 0)
			out->priv = out->pub = CK_INVALID_HANDLE;
		/* else out still names the pair, so the caller can record it */
		return r;
	}
	return 0;
}

int p11key_evidence_read(struct p11_session *s, const struct p11key *k,
			 struct p11key_evidence *ev)
{
	const struct {
		CK_ATTRIBUTE_TYPE type;
		int *field;
	} bools[] = {
		{CKA_TOKEN, &ev->token},
		{CKA_PRIVATE, &ev->private_},
		{CKA_SENSITIVE, &ev->sensitive},
		{CKA_EXTRACTABLE, &ev->extractable},
		{CKA_WRAP_WITH_TRUSTED, &ev->wrap_with_trusted},
		{CKA_SIGN, &ev->sign},
		{CKA_DECRYPT, &ev->decrypt},
		{CKA_UNWRAP, &ev->unwrap},
		{CKA_DERIVE, &ev->derive},
		{CKA_SIGN_RECOVER, &ev->sign_recover},
		{CKA_LOCAL, &ev->local},
		{CKA_ALWAYS_SENSITIVE, &ev->always_sensitive},
		{CKA_NEVER_EXTRACTABLE, &ev->never_extractable},
	};
	int r;

	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if ((r = p11_attr_bool(s, k->priv, bools[i].type, bools[i].field)) != 0)
			return r;
	return p11_attr_ulong(s, k->priv, CKA_KEY_GEN_MECHANISM, &ev->key_gen_mechanism);
}

int p11key_evidence_check(const struct p11key_evidence *ev, int generated_here)
{
	const struct {
		const char *name;
		int got, want;
	} rules[] = {
		{"CKA_TOKEN", ev->token, 1},
		{"CKA_PRIVATE", ev->private_, 1},
		{"CKA_SENSITIVE", ev->sensitive, 1},
		{"CKA_SIGN", ev->sign, 1},
		{"CKA_DECRYPT", ev->decrypt, 0},
		{"CKA_UNWRAP", ev->unwrap, 0},
		{"CKA_DERIVE", ev->derive, 0},
		{"CKA_SIGN_RECOVER", ev->sign_recover, 0},
		/* EXTRACTABLE is acceptable only together with WRAP_WITH_TRUSTED. */
		{"CKA_WRAP_WITH_TRUSTED", ev->extractable == 1 ? ev->wrap_with_trusted : 1, 1},
		{"CKA_LOCAL", generated_here ? ev->local : 1, 1},
		{"CKA_ALWAYS_SENSITIVE", generated_here ? ev->always_sensitive : 1, 1},
	};

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (rules[i].got != rules[i].want)
			return cer_err(CER_E_REFUSED, "the HSM reports %s = %s, expected %s",
				       rules[i].name,
				       rules[i].got < 0 ? "absent" : rules[i].got ? "TRUE" : "FALSE",
				       rules[i].want ? "TRUE" : "FALSE");
	}
	if (generated_here && ev->key_gen_mechanism != CKM_EC_KEY_PAIR_GEN &&
	    ev->key_gen_mechanism != CKM_RSA_PKCS_KEY_PAIR_GEN)
		return cer_err(CER_E_REFUSED, "the HSM reports CKA_KEY_GEN_MECHANISM = 0x%lx, "
					      "expected a key-pair generation mechanism",
			       (unsigned long)ev->key_gen_mechanism);
	return 0;
}

int p11key_find(struct p11_session *s, const char *label, struct p11key *out)
{
	CK_OBJECT_CLASS priv_class = CKO_PRIVATE_KEY, pub_class = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE priv_t[] = {{CKA_CLASS, &priv_class, sizeof(priv_class)},
				 {CKA_LABEL, (void *)label, strlen(label)}};
	CK_OBJECT_HANDLE h[2];
	CK_ULONG kt = 0;
	uint8_t *id = NULL, *params = NULL;
	size_t n = 0, id_len = 0, params_len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (strlen(label) > P11KEY_LABEL_MAX)
		return cer_err(CER_E_INPUT, "key label longer than %d bytes", P11KEY_LABEL_MAX);
	if ((r = p11_objects_find(s, priv_t, 2, h, 2, &n)) != 0)
		return r;
	if (n == 0)
		return cer_err(CER_E_NOTFOUND, "token \"%s\" has no private key labelled \"%s\"",
			       s->token.label, label);
	if (n > 1)
		return cer_err(CER_E_INPUT, "token \"%s\" has several private keys labelled \"%s\"",
			       s->token.label, label);
	out->priv = h[0];
	memcpy(out->label, label, strlen(label) + 1);
	if ((r = p11_attr_get(s, out->priv, CKA_ID, &id, &id_len)) != 0)
		goto out;
	if (id_len == 0 || id_len > sizeof(out->id)) {
		r = cer_err(CER_E_INPUT, "key \"%s\" has no usable CKA_ID", label);
		goto out;
	}
	memcpy(out->id, id, id_len);
	out->id_len = id_len;
	if ((r = p11_attr_ulong(s, out->priv, CKA_KEY_TYPE, &kt)) != 0)
		goto out;
	if (kt == CKK_EC) {
		if ((r = p11_attr_get(s, out->priv, CKA_EC_PARAMS, &params, &params_len)) != 0)
			goto out;
		if (key_type_from_ec_params(params, params_len, &out->type) != 0) {
			r = cer_err(CER_E_INPUT, "key \"%s\" is on a curve this tool does not use",
				    label);
			goto out;
		}
	} else if (kt == CKK_RSA) {
		/* CKA_MODULUS is public even on a sensitive private key. */
		if ((r = p11_attr_get(s, out->priv, CKA_MODULUS, &params, &params_len)) != 0)
			goto out;
		if (key_type_from_rsa_bits((unsigned)(params_len * 8), &out->type) != 0) {
			r = cer_err(CER_E_INPUT, "key \"%s\" is RSA-%zu, a size this tool does not use",
				    label, params_len * 8);
			goto out;
		}
	} else {
		r = cer_err(CER_E_INPUT, "key \"%s\" is neither EC nor RSA", label);
		goto out;
	}
	{
		CK_ATTRIBUTE pub_t[] = {{CKA_CLASS, &pub_class, sizeof(pub_class)},
					{CKA_ID, out->id, out->id_len}};
		if ((r = p11_objects_find(s, pub_t, 2, h, 2, &n)) != 0)
			goto out;
		out->pub = n == 1 ? h[0] : CK_INVALID_HANDLE;
	}
	r = 0;
out:
	free(id);
	free(params);
	return r;
}

/* CKA_EC_POINT is a DER OCTET STRING holding the uncompressed point. */
static int ec_point_unwrap(const uint8_t *der, size_t len, const uint8_t **pt, size_t *ptlen)
{
	const unsigned char *p = der;
	ASN1_OCTET_STRING *os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)len);
	int r = 0;

	if (os == NULL || p != der + len)
		r = cer_err(CER_E_P11, "CKA_EC_POINT is not a DER OCTET STRING");
	else {
		*pt = der + (len - (size_t)ASN1_STRING_length(os));
		*ptlen = (size_t)ASN1_STRING_length(os);
	}
	ASN1_OCTET_STRING_free(os);
	return r;
}

static int spki_from_params(OSSL_PARAM_BLD *bld, const char *keytype, uint8_t **der,
			    size_t *len)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, keytype, NULL);
	EVP_PKEY *pkey = NULL;
	unsigned char *buf = NULL;
	int n, r = CER_E_CRYPTO;

	if (params == NULL || pctx == NULL || EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot build the public key from the token's values");
		goto out;
	}
	n = i2d_PUBKEY(pkey, &buf);
	if (n <= 0) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot encode the public key");
		goto out;
	}
	*der = buf;
	*len = (size_t)n;
	r = 0;
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	return r;
}

int p11key_spki(struct p11_session *s, const struct p11key *k, uint8_t **der, size_t *len)
{
	OSSL_PARAM_BLD *bld = NULL;
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0, ptlen = 0;
	const uint8_t *pt = NULL;
	BIGNUM *n = NULL, *e = NULL;
	int r;

	*der = NULL;
	*len = 0;
	if (k->pub == CK_INVALID_HANDLE)
		return cer_err(CER_E_NOTFOUND, "key \"%s\" has no public-key object on token \"%s\"",
			       k->label, s->token.label);
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if (key_is_ec(k->type)) {
		if ((r = p11_attr_get(s, k->pub, CKA_EC_POINT, &a, &alen)) != 0 ||
		    (r = ec_point_unwrap(a, alen, &pt, &ptlen)) != 0)
			goto out;
		if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
						     k->type == KEY_EC_P256 ? "P-256" : "P-384", 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, ptlen)) {
			r = cer_err(CER_E_CRYPTO, "cannot build the EC public key");
			goto out;
		}
		r = spki_from_params(bld, "EC", der, len);
	} else {
		if ((r = p11_attr_get(s, k->pub, CKA_MODULUS, &a, &alen)) != 0 ||
		    (r = p11_attr_get(s, k->pub, CKA_PUBLIC_EXPONENT, &b, &blen)) != 0)
			goto out;
		n = BN_bin2bn(a, (int)alen, NULL);
		e = BN_bin2bn(b, (int)blen, NULL);
		if (n == NULL || e == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
			r = cer_err(CER_E_CRYPTO, "cannot build the RSA public key");
			goto out;
		}
		r = spki_from_params(bld, "RSA", der, len);
	}
out:
	BN_free(n);
	BN_free(e);
	free(a);
	free(b);
	OSSL_PARAM_BLD_free(bld);
	return r;
}

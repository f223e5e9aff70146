#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "ceremony/err.h"
#include "ceremony/p11wrap.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "p11_int.h"

const char *p11wrap_mechanism_name(CK_MECHANISM_TYPE m)
{
	if (m == P11WRAP_CKM_AES_KEY_WRAP_KWP)
		return "CKM_AES_KEY_WRAP_KWP";
	if (m == P11WRAP_CKM_AES_KEY_WRAP_PAD)
		return "CKM_AES_KEY_WRAP_PAD";
	return "unknown";
}

const char *p11wrap_kat_name(enum p11wrap_kat k)
{
	return k == P11WRAP_KAT_EXACT ? "exact" : k == P11WRAP_KAT_ZERO_PADDED ? "zero-padded" : "?";
}

/* RFC 5649 section 6: the 192-bit KEK and its two wrapped keys. */
static const uint8_t kat_kek[24] = {0x58, 0x40, 0xdf, 0x6e, 0x29, 0xb0, 0x2a, 0xf1,
				    0xab, 0x49, 0x3b, 0x70, 0x5b, 0xf1, 0x6e, 0xa1,
				    0xae, 0x83, 0x38, 0xf4, 0xdc, 0xc1, 0x76, 0xa8};
static const uint8_t kat_key1[20] = {0xc3, 0x7b, 0x7e, 0x64, 0x92, 0x58, 0x43,
				     0x40, 0xbe, 0xd1, 0x22, 0x07, 0x80, 0x89,
				     0x41, 0x15, 0x50, 0x68, 0xf7, 0x38};
static const uint8_t kat_wrap1[32] = {0x13, 0x8b, 0xde, 0xaa, 0x9b, 0x8f, 0xa7, 0xfc,
				      0x61, 0xf9, 0x77, 0x42, 0xe7, 0x22, 0x48, 0xee,
				      0x5a, 0xe6, 0xae, 0x53, 0x60, 0xd1, 0xae, 0x6a,
				      0x5f, 0x54, 0xf3, 0x73, 0xfa, 0x54, 0x3b, 0x6a};
static const uint8_t kat_key2[7] = {0x46, 0x6f, 0x72, 0x50, 0x61, 0x73, 0x69};
static const uint8_t kat_wrap2[16] = {0xaf, 0xbe, 0xb0, 0xf0, 0x7d, 0xfb, 0xf5, 0x41,
				      0x92, 0x00, 0xf2, 0xcc, 0xb5, 0x0b, 0xb2, 0x4f};

/* OpenSSL's RFC 5649 unwrap under the KAT KEK; *plain_len 0 when it does not unwrap. */
static int kat_openssl_unwrap(const uint8_t *in, size_t len, uint8_t *plain, size_t *plain_len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0, r = 0;

	*plain_len = 0;
	if (c == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (EVP_DecryptInit_ex(c, EVP_aes_192_wrap_pad(), NULL, kat_kek, NULL) <= 0) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot start an RFC 5649 unwrap");
		goto out;
	}
	if (len >= 16 && len <= 64 && EVP_DecryptUpdate(c, plain, &n, in, (int)len) > 0 &&
	    EVP_DecryptFinal_ex(c, plain + n, &fin) > 0)
		*plain_len = (size_t)(n + fin);
out:
	EVP_CIPHER_CTX_free(c);
	return r;
}

/* Wrap key under the throwaway KEK with mech; classify the result. */
static int kat_one(struct p11_session *s, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE kek,
		   const uint8_t *key, size_t key_len, const uint8_t *want, size_t want_len,
		   CK_RV *rv_out, enum p11wrap_kat *kat)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &cls, sizeof(cls)},	      {CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_TOKEN, &no, sizeof(no)},	      {CKA_PRIVATE, &no, sizeof(no)},
		{CKA_SENSITIVE, &no, sizeof(no)},     {CKA_EXTRACTABLE, &yes, sizeof(yes)},
		{CKA_VALUE, (void *)key, key_len},
	};
	CK_MECHANISM m = {mech, NULL, 0};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	uint8_t out[64], plain[64], padded[64];
	CK_ULONG out_len = sizeof(out);
	size_t plain_len = 0, padded_len = (key_len + 7) / 8 * 8;
	int r;

	*rv_out = CKR_OK;
	if ((r = p11_object_create(s, t, ARRAY_LEN(t), &h,
				   "token \"%s\": creating the known-answer test key",
				   s->token.label)) != 0)
		return r;
	*rv_out = s->f->C_WrapKey(s->handle, &m, kek, h, out, &out_len);
	if (*rv_out != CKR_OK && *rv_out != CKR_MECHANISM_INVALID) {
		r = p11_err(*rv_out, "token \"%s\": %s known-answer test", s->token.label,
			    p11wrap_mechanism_name(mech));
		/* STYLE 17: the wrap's failure stays the message; a failed destroy is added. */
		(void)p11_object_destroy_keep_error(s, h, "the known-answer test key (a session "
							  "object, gone when the session closes)");
		return r;
	}
	if ((r = p11_object_destroy(s, h, "the known-answer test key")) != 0)
		return r;
	if (*rv_out == CKR_MECHANISM_INVALID)
		return 0; /* the caller tries the next mechanism */
	if ((r = kat_openssl_unwrap(out, out_len, plain, &plain_len)) != 0)
		return r;
	memset(padded, 0, sizeof(padded));
	memcpy(padded, key, key_len);
	if (out_len == want_len && memcmp(out, want, want_len) == 0 && plain_len == key_len &&
	    memcmp(plain, key, key_len) == 0)
		*kat = P11WRAP_KAT_EXACT;
	else if (plain_len == padded_len && memcmp(plain, padded, padded_len) == 0)
		*kat = P11WRAP_KAT_ZERO_PADDED;
	else
		return cer_err(CER_E_REFUSED,
			       "token \"%s\": %s is not RFC 5649 (the section 6 known answer "
			       "fails); nothing was wrapped",
			       s->token.label, p11wrap_mechanism_name(mech));
	return 0;
}

int p11wrap_mechanisms_check(struct p11_session *s, CK_FLAGS need)
{
	static const CK_MECHANISM_TYPE mechs[] = {P11WRAP_CKM_AES_KEY_WRAP_KWP,
						  P11WRAP_CKM_AES_KEY_WRAP_PAD};
	char seen[160] = "";
	int r;

	for (size_t i = 0; i < ARRAY_LEN(mechs); i++) {
		CK_MECHANISM_INFO info;
		CK_RV rv = s->f->C_GetMechanismInfo(s->token.slot, mechs[i], &info);

		if (rv == CKR_MECHANISM_INVALID)
			continue;
		if (rv != CKR_OK)
			return p11_err(rv, "token \"%s\": C_GetMechanismInfo(%s)", s->token.label,
				       p11wrap_mechanism_name(mechs[i]));
		/* ulMin/ulMaxKeySize are in bytes for AES (PKCS#11 2.40 section 2.12) */
		if ((info.flags & need) == need && info.ulMinKeySize <= 32 && info.ulMaxKeySize >= 32)
			return 0;
		if ((r = text_append(seen, sizeof(seen), "the wrap mechanisms seen",
				     "%s%s without %s%s", seen[0] != '\0' ? "; " : "",
				     p11wrap_mechanism_name(mechs[i]),
				     (info.flags & need) != need ? "the flags needed" : "",
				     (info.flags & need) != need ? "" : "256-bit keys")) != 0)
			return r;
	}
	return cer_err(CER_E_REFUSED,
		       "token \"%s\" cannot %s with RFC 5649 (C_GetMechanismInfo: %s): the backup "
		       "needs CKM_AES_KEY_WRAP_KWP (0x210B) or CKM_AES_KEY_WRAP_PAD (0x210A); nothing "
		       "was asked or changed",
		       s->token.label, need & CKF_UNWRAP ? "unwrap" : "wrap",
		       seen[0] != '\0' ? seen : "neither mechanism");
}

int p11wrap_kat_run(struct p11_session *s, struct p11wrap_mech *out)
{
	static const CK_MECHANISM_TYPE mechs[] = {P11WRAP_CKM_AES_KEY_WRAP_KWP,
						  P11WRAP_CKM_AES_KEY_WRAP_PAD};
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_TOKEN, &no, sizeof(no)},
		{CKA_PRIVATE, &no, sizeof(no)},
		{CKA_WRAP, &yes, sizeof(yes)},
		{CKA_VALUE, (void *)kat_kek, sizeof(kat_kek)},
	};
	CK_OBJECT_HANDLE kek = CK_INVALID_HANDLE;
	enum p11wrap_kat k1 = 0, k2 = 0;
	CK_RV rv;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if ((r = p11_object_create(s, t, ARRAY_LEN(t), &kek,
				   "token \"%s\": creating the known-answer test KEK",
				   s->token.label)) != 0)
		return r;
	for (size_t i = 0; i < ARRAY_LEN(mechs); i++) {
		if ((r = kat_one(s, mechs[i], kek, kat_key1, sizeof(kat_key1), kat_wrap1,
				 sizeof(kat_wrap1), &rv, &k1)) != 0)
			goto out;
		if (rv == CKR_MECHANISM_INVALID)
			continue;
		if ((r = kat_one(s, mechs[i], kek, kat_key2, sizeof(kat_key2), kat_wrap2,
				 sizeof(kat_wrap2), &rv, &k2)) != 0)
			goto out;
		out->mechanism = mechs[i];
		out->kat = k1 == P11WRAP_KAT_EXACT && k2 == P11WRAP_KAT_EXACT
				   ? P11WRAP_KAT_EXACT
				   : P11WRAP_KAT_ZERO_PADDED;
		goto out;
	}
	r = cer_err(CER_E_P11, "token \"%s\" has no RFC 5649 key wrap mechanism (0x210B or 0x210A)",
		    s->token.label);
out:
	/* STYLE 17: a failed destroy is reported; after another failure, that one's message
	 * stays first. */
	if (r != 0)
		(void)p11_object_destroy_keep_error(s, kek, "the known-answer test KEK (a session "
							    "object, gone when the session closes)");
	else
		r = p11_object_destroy(s, kek, "the known-answer test KEK");
	return r;
}

/*
 * A session AES KEK that does one thing with mech: wrap (trusted, public: research/
 * pkcs11-probe.md Q2, the SO may only create public objects, and a public *token* object's
 * value is stored in clear by SoftHSM) or unwrap (private, for the logged-in user).
 */
static int kek_create(struct p11_session *s, const uint8_t kek[static KEK_LEN],
		      CK_MECHANISM_TYPE mech, const char *label, int wrap, CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BBOOL private_ = wrap ? CK_FALSE : CK_TRUE, can_wrap = wrap ? CK_TRUE : CK_FALSE;
	CK_BBOOL can_unwrap = wrap ? CK_FALSE : CK_TRUE;
	CK_MECHANISM_TYPE allowed[1] = {mech};
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_TOKEN, &no, sizeof(no)},
		{CKA_PRIVATE, &private_, sizeof(private_)},
		{CKA_WRAP, &can_wrap, sizeof(can_wrap)},
		{CKA_UNWRAP, &can_unwrap, sizeof(can_unwrap)},
		{CKA_ENCRYPT, &no, sizeof(no)},
		{CKA_DECRYPT, &no, sizeof(no)},
		{CKA_SIGN, &no, sizeof(no)},
		{CKA_VERIFY, &no, sizeof(no)},
		{CKA_DERIVE, &no, sizeof(no)},
		{CKA_SENSITIVE, &yes, sizeof(yes)},
		{CKA_EXTRACTABLE, &no, sizeof(no)},
		{CKA_ALLOWED_MECHANISMS, allowed, sizeof(allowed)},
		{CKA_LABEL, (void *)label, strlen(label)},
		{CKA_VALUE, (void *)kek, KEK_LEN},
		{CKA_TRUSTED, &yes, sizeof(yes)}, /* last: the wrapping KEK's alone */
	};

	return p11_object_create(s, t, ARRAY_LEN(t) - (wrap ? 0 : 1), out,
				 wrap ? "token \"%s\": security officer creating the trusted KEK"
				      : "token \"%s\": importing the KEK for unwrapping",
				 s->token.label);
}

int p11wrap_kek_create_trusted(struct p11_session *so, const uint8_t kek[static KEK_LEN],
			       CK_MECHANISM_TYPE mech, const char *label, CK_OBJECT_HANDLE *out)
{
	return kek_create(so, kek, mech, label, 1, out);
}

int p11wrap_kek_create_unwrap(struct p11_session *user, const uint8_t kek[static KEK_LEN],
			      CK_MECHANISM_TYPE mech, const char *label, CK_OBJECT_HANDLE *out)
{
	return kek_create(user, kek, mech, label, 0, out);
}

int p11wrap_kek_find(struct p11_session *s, const char *label, CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, (void *)label, strlen(label)}};
	CK_OBJECT_HANDLE h[2];
	size_t n = 0;
	int r;

	*out = CK_INVALID_HANDLE;
	if ((r = p11_objects_find(s, t, ARRAY_LEN(t), h, 2, &n)) != 0)
		return r;
	if (n != 1)
		return cer_err(CER_E_NOTFOUND, "token \"%s\": %zu KEKs labelled \"%s\", expected one",
			       s->token.label, n, label);
	*out = h[0];
	return 0;
}

int p11wrap_wrap(struct p11_session *s, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE kek,
		 CK_OBJECT_HANDLE key, uint8_t **out, size_t *len)
{
	CK_MECHANISM m = {mech, NULL, 0};
	CK_ULONG n = 0;
	uint8_t *buf;
	CK_RV rv;

	*out = NULL;
	*len = 0;
	if ((rv = s->f->C_WrapKey(s->handle, &m, kek, key, NULL, &n)) != CKR_OK)
		return p11_err(rv, "token \"%s\": wrapping the key under the KEK", s->token.label);
	if (n == 0 || n > P11WRAP_WRAPPED_MAX)
		return cer_err(CER_E_P11, "token \"%s\": the wrapped key would be %lu bytes",
			       s->token.label, (unsigned long)n);
	if ((buf = malloc(n)) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if ((rv = s->f->C_WrapKey(s->handle, &m, kek, key, buf, &n)) != CKR_OK) {
		free(buf);
		return p11_err(rv, "token \"%s\": wrapping the key under the KEK", s->token.label);
	}
	*out = buf;
	*len = n;
	return 0;
}

int p11wrap_unwrap(struct p11_session *s, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE kek,
		   const uint8_t *wrapped, size_t len, const struct p11wrap_unwrap_params *p,
		   CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = p->type == KEY_EC_P256 || p->type == KEY_EC_P384 ? CKK_EC : CKK_RSA;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BBOOL extractable = p->extractable ? CK_TRUE : CK_FALSE;
	/* The root template of DESIGN.md; WRAP_WITH_TRUSTED only with EXTRACTABLE. */
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_PRIVATE, &yes, sizeof(yes)},
		{CKA_SENSITIVE, &yes, sizeof(yes)},
		{CKA_SIGN, &yes, sizeof(yes)},
		{CKA_SIGN_RECOVER, &no, sizeof(no)},
		{CKA_DECRYPT, &no, sizeof(no)},
		{CKA_UNWRAP, &no, sizeof(no)},
		{CKA_DERIVE, &no, sizeof(no)},
		{CKA_LABEL, (void *)p->label, strlen(p->label)},
		{CKA_ID, (void *)p->id, p->id_len},
		{CKA_EXTRACTABLE, &extractable, sizeof(extractable)},
		{CKA_WRAP_WITH_TRUSTED, &yes, sizeof(yes)},
	};
	CK_MECHANISM m = {mech, NULL, 0};
	CK_RV rv;

	*out = CK_INVALID_HANDLE;
	rv = s->f->C_UnwrapKey(s->handle, &m, kek, (CK_BYTE_PTR)wrapped, (CK_ULONG)len, t,
			       ARRAY_LEN(t) - (p->extractable ? 0 : 1), out);
	if (rv != CKR_OK)
		return p11_err(rv, "token \"%s\": unwrapping the root key", s->token.label);
	return 0;
}

/* CKA_EC_PARAMS (the curve's OID) and CKA_EC_POINT (DER OCTET STRING) of an EC SPKI. */
static int pub_ec_values(EVP_PKEY *pk, uint8_t **params, size_t *params_len, uint8_t **point,
			 size_t *point_len)
{
	char group[NAME_SIZE];
	uint8_t raw[256];
	size_t raw_len = 0;
	ASN1_OBJECT *obj = NULL;
	ASN1_OCTET_STRING *os = NULL;
	unsigned char *p = NULL;
	int n, r = CER_E_CRYPTO;

	if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					   NULL) <= 0 ||
	    EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, raw,
					    sizeof(raw), &raw_len) <= 0) {
		r = cer_err_ssl(CER_E_INPUT, "the root SPKI is not a usable EC public key");
		goto out;
	}
	if ((obj = OBJ_txt2obj(group, 0)) == NULL || (n = i2d_ASN1_OBJECT(obj, &p)) <= 0) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot encode the curve of the root SPKI");
		goto out;
	}
	*params = p;
	*params_len = (size_t)n;
	p = NULL;
	if ((os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, raw, (int)raw_len) ||
	    (n = i2d_ASN1_OCTET_STRING(os, &p)) <= 0) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot encode the root public point");
		goto out;
	}
	*point = p;
	*point_len = (size_t)n;
	r = 0;
out:
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(os);
	return r;
}

static int bn_bytes(EVP_PKEY *pk, const char *name, uint8_t **out, size_t *len)
{
	BIGNUM *bn = NULL;
	int n;

	if (EVP_PKEY_get_bn_param(pk, name, &bn) <= 0)
		return cer_err_ssl(CER_E_INPUT, "the root SPKI is not a usable RSA public key");
	n = BN_num_bytes(bn);
	*out = OPENSSL_malloc(n > 0 ? (size_t)n : 1);
	if (*out == NULL) {
		BN_free(bn);
		return cer_err(CER_E_NOMEM, "out of memory");
	}
	*len = (size_t)BN_bn2bin(bn, *out);
	BN_free(bn);
	return 0;
}

int p11wrap_pubkey_create(struct p11_session *s, const uint8_t *spki, size_t spki_len,
			  const char *label, const uint8_t *id, size_t id_len,
			  CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_KEY_TYPE kt;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	const unsigned char *p = spki;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)spki_len);
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	int r;

	*out = CK_INVALID_HANDLE;
	if (pk == NULL || p != spki + spki_len)
		r = cer_err_ssl(CER_E_INPUT, "the root SPKI in the blob is not DER SubjectPublicKeyInfo");
	else if (EVP_PKEY_is_a(pk, "EC")) {
		kt = CKK_EC;
		r = pub_ec_values(pk, &a, &alen, &b, &blen);
	} else if (EVP_PKEY_is_a(pk, "RSA")) {
		kt = CKK_RSA;
		if ((r = bn_bytes(pk, OSSL_PKEY_PARAM_RSA_N, &a, &alen)) == 0)
			r = bn_bytes(pk, OSSL_PKEY_PARAM_RSA_E, &b, &blen);
	} else
		r = cer_err(CER_E_INPUT, "the root SPKI is neither EC nor RSA");
	if (r != 0)
		goto out;
	{
		CK_ATTRIBUTE t[] = {
			{CKA_CLASS, &cls, sizeof(cls)},
			{CKA_KEY_TYPE, &kt, sizeof(kt)},
			{CKA_TOKEN, &yes, sizeof(yes)},
			{CKA_PRIVATE, &no, sizeof(no)},
			{CKA_VERIFY, &yes, sizeof(yes)},
			{CKA_ENCRYPT, &no, sizeof(no)},
			{CKA_WRAP, &no, sizeof(no)},
			{CKA_DERIVE, &no, sizeof(no)},
			{CKA_LABEL, (void *)label, strlen(label)},
			{CKA_ID, (void *)id, id_len},
			{kt == CKK_EC ? CKA_EC_PARAMS : CKA_MODULUS, a, alen},
			{kt == CKK_EC ? CKA_EC_POINT : CKA_PUBLIC_EXPONENT, b, blen},
		};
		r = p11_object_create(s, t, ARRAY_LEN(t), out,
				      "token \"%s\": creating the root public-key object",
				      s->token.label);
	}
out:
	OPENSSL_free(a);
	OPENSSL_free(b);
	EVP_PKEY_free(pk);
	return r;
}

int p11wrap_data_create(struct p11_session *s, const char *application, const char *label,
			const uint8_t *value, size_t len, CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_PRIVATE, &yes, sizeof(yes)},
		{CKA_MODIFIABLE, &no, sizeof(no)},
		{CKA_APPLICATION, (void *)application, strlen(application)},
		{CKA_LABEL, (void *)label, strlen(label)},
		{CKA_VALUE, (void *)value, len},
	};

	return p11_object_create(s, t, ARRAY_LEN(t), out,
				 "token \"%s\" (serial %s): writing data object \"%s\"",
				 s->token.label, s->token.serial, label);
}

int p11wrap_data_find(struct p11_session *s, const char *application, const char *label,
		      CK_OBJECT_HANDLE *handles, size_t max, size_t *n)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_APPLICATION, (void *)application, strlen(application)},
		{CKA_LABEL, (void *)label, label != NULL ? strlen(label) : 0},
	};

	return p11_objects_find(s, t, label != NULL ? 3 : 2, handles, max, n);
}

int p11wrap_data_read(struct p11_session *s, CK_OBJECT_HANDLE h, uint8_t **value, size_t *len,
		      char *label, size_t label_size)
{
	uint8_t *l = NULL;
	size_t l_len = 0;
	int r;

	*value = NULL;
	*len = 0;
	if ((r = p11_attr_get(s, h, CKA_LABEL, &l, &l_len)) != 0)
		return r;
	if (l_len >= label_size) {
		free(l);
		return cer_err(CER_E_INPUT, "token \"%s\": a data object's label is too long",
			       s->token.label);
	}
	memcpy(label, l, l_len);
	label[l_len] = '\0';
	free(l);
	if ((r = p11_attr_get(s, h, CKA_VALUE, value, len)) != 0)
		return r;
	if (*len > P11WRAP_DATA_MAX) {
		free(*value);
		*value = NULL;
		return cer_err(CER_E_INPUT, "token \"%s\": data object \"%s\" is too large",
			       s->token.label, label);
	}
	return 0;
}

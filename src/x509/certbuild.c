/*
 * set_pubkey below copies an EC or RSA key into a legacy EVP_PKEY (EC_KEY / RSA,
 * deprecated in OpenSSL 3.0 but kept) so that X509_set_pubkey encodes it
 * directly: with a provider key OpenSSL 3.0 runs an encoder and then a decoder,
 * whose set-up costs about as much as building the rest of the certificate.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <ctype.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "ceremony/certbuild.h"
#include "ceremony/err.h"
#include "ceremony/sizes.h"

int certbuild_serial(const uint8_t random[CERTBUILD_SERIAL_LEN], ASN1_INTEGER **out)
{
	uint8_t hsm[CERTBUILD_SERIAL_LEN];
	BIGNUM *bn = NULL;

	*out = NULL;
	memcpy(hsm, random, sizeof(hsm));
	/* BR 7.1: positive, >= 64 CSPRNG bits; fixed 16 octets: 0b01xxxxxx first byte. */
	hsm[0] = (uint8_t)((hsm[0] & 0x3f) | 0x40);
	bn = BN_bin2bn(hsm, sizeof(hsm), NULL);
	if (bn != NULL)
		*out = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	if (*out == NULL)
		return cer_err_ssl(CER_E_CRYPTO, "cannot make a serial number");
	return 0;
}

static int dn_value_ok(const char *type, const char *v)
{
	size_t len = strlen(v);

	if (len == 0)
		return cer_err(CER_E_INPUT, "subject: %s is empty", type);
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return cer_err(CER_E_INPUT, "subject: %s contains a control character", type);
	if (strcmp(type, "C") == 0 &&
	    (len != 2 || !isupper((unsigned char)v[0]) || !isupper((unsigned char)v[1])))
		return cer_err(CER_E_INPUT, "subject: C must be two capital letters, not \"%s\"", v);
	if (len > 64)
		return cer_err(CER_E_INPUT, "subject: %s is longer than 64 characters", type);
	if (strspn(v, ".- ") == len)
		return cer_err(CER_E_INPUT, "subject: %s holds only punctuation", type);
	return 0;
}

int certbuild_name_parse(const char *dn, int require_cn, X509_NAME **out)
{
	X509_NAME *name = NULL;
	char type[32], value[CERTBUILD_DN_MAX];
	const char *p = dn;
	int r, cn = 0;

	*out = NULL;
	if (strlen(dn) >= CERTBUILD_DN_MAX)
		return cer_err(CER_E_INPUT, "subject: longer than %d bytes", CERTBUILD_DN_MAX - 1);
	if (*p != '/')
		return cer_err(CER_E_INPUT, "subject must look like \"/C=DE/O=Org/CN=Name\"");
	name = X509_NAME_new();
	if (name == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	while (*p == '/') {
		size_t t = 0, v = 0;
		p++;
		while (*p != '\0' && *p != '=' && t < sizeof(type) - 1)
			type[t++] = *p++;
		type[t] = '\0';
		if (*p != '=' || t == 0) {
			r = cer_err(CER_E_INPUT, "subject: \"%s\" has no \"=\"", type);
			goto fail;
		}
		p++;
		while (*p != '\0' && *p != '/') {
			if (*p == '\\' && p[1] != '\0')
				p++;
			value[v++] = *p++;
		}
		value[v] = '\0';
		if ((r = dn_value_ok(type, value)) != 0)
			goto fail;
		if (strcmp(type, "CN") == 0 && cn++ > 0) {
			r = cer_err(CER_E_INPUT, "subject: more than one CN");
			goto fail;
		}
		if (OBJ_txt2nid(type) == NID_undef) {
			r = cer_err(CER_E_INPUT, "subject: unknown attribute type \"%s\"", type);
			goto fail;
		}
		if (!X509_NAME_add_entry_by_txt(name, type, MBSTRING_UTF8, (unsigned char *)value,
						-1, -1, 0)) {
			r = cer_err_ssl(CER_E_INPUT, "subject: cannot use %s=\"%s\"", type, value);
			goto fail;
		}
	}
	if (*p != '\0' || X509_NAME_entry_count(name) == 0) {
		r = cer_err(CER_E_INPUT, "subject must look like \"/C=DE/O=Org/CN=Name\"");
		goto fail;
	}
	if (require_cn && cn == 0) {
		r = cer_err(CER_E_INPUT, "subject: a CN is required");
		goto fail;
	}
	*out = name;
	return 0;
fail:
	X509_NAME_free(name);
	return r;
}

static int set_validity(X509 *x, const struct profile *p)
{
	ASN1_TIME *t;

	if (X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL)
		return cer_err_ssl(CER_E_CRYPTO, "cannot set notBefore");
	if (p->not_after[0] != '\0') {
		/* RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
		t = X509_getm_notAfter(x);
		if (!ASN1_TIME_set_string_X509(t, p->not_after))
			return cer_err_ssl(CER_E_CRYPTO, "cannot set notAfter %s", p->not_after);
	} else if (X509_time_adj_ex(X509_getm_notAfter(x), (int)p->validity_days, 0, NULL) == NULL)
		return cer_err_ssl(CER_E_CRYPTO, "cannot set notAfter");
	return 0;
}

/* RFC 5280 4.2.1.2 method 1 (SHA-1 of the subjectPublicKey bits) or RFC 7093 method 1. */
/* Of the certificate's own subjectPublicKey bits (set from the key already): no
 * second encoding of the key. */
static int key_identifier(X509 *x, enum profile_ski method, ASN1_OCTET_STRING **out)
{
	X509_PUBKEY *xpk = X509_get_X509_PUBKEY(x);
	const unsigned char *bits;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int bitslen, r = 0;

	*out = NULL;
	if (xpk == NULL || !X509_PUBKEY_get0_param(NULL, &bits, &bitslen, NULL, xpk) ||
	    !EVP_Digest(bits, (size_t)bitslen, md, &mdlen,
			method == PROFILE_SKI_SHA1 ? EVP_sha1() : EVP_sha256(), NULL)) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot compute the key identifier");
		goto out;
	}
	*out = ASN1_OCTET_STRING_new();
	if (*out == NULL || !ASN1_OCTET_STRING_set(*out, md, 20))
		r = cer_err(CER_E_NOMEM, "out of memory");
out:
	return r;
}

static int add_ext(X509 *x, int nid, void *value, int critical)
{
	if (X509_add1_ext_i2d(x, nid, value, critical, X509V3_ADD_DEFAULT) != 1)
		return cer_err_ssl(CER_E_CRYPTO, "cannot add extension %s", OBJ_nid2sn(nid));
	return 0;
}

static int add_basic_constraints(X509 *x, const struct profile *p)
{
	BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
	int r;

	if (bc == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	bc->ca = p->ca ? 0xff : 0;
	if (p->ca && p->path_len >= 0) {
		bc->pathlen = ASN1_INTEGER_new();
		if (bc->pathlen == NULL || !ASN1_INTEGER_set(bc->pathlen, p->path_len)) {
			BASIC_CONSTRAINTS_free(bc);
			return cer_err(CER_E_NOMEM, "out of memory");
		}
	}
	/* RFC 5280 4.2.1.9: critical in CA certificates. */
	r = add_ext(x, NID_basic_constraints, bc, 1);
	BASIC_CONSTRAINTS_free(bc);
	return r;
}

static int add_key_usage(X509 *x, const struct profile *p)
{
	static const struct {
		unsigned ku;
		int bit;
	} bits[] = {{KU_DIGITAL_SIGNATURE, 0}, {KU_NON_REPUDIATION, 1}, {KU_KEY_ENCIPHERMENT, 2},
		    {KU_DATA_ENCIPHERMENT, 3}, {KU_KEY_AGREEMENT, 4},	{KU_KEY_CERT_SIGN, 5},
		    {KU_CRL_SIGN, 6}};
	ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
	int r;

	if (ku == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if ((p->key_usage & bits[i].ku) && !ASN1_BIT_STRING_set_bit(ku, bits[i].bit, 1)) {
			ASN1_BIT_STRING_free(ku);
			return cer_err(CER_E_NOMEM, "out of memory");
		}
	r = add_ext(x, NID_key_usage, ku, 1); /* RFC 5280 4.2.1.3: SHOULD be critical */
	ASN1_BIT_STRING_free(ku);
	return r;
}

static int add_eku(X509 *x, const struct profile *p)
{
	EXTENDED_KEY_USAGE *eku;
	int r = 0;

	if (p->n_eku == 0)
		return 0;
	eku = sk_ASN1_OBJECT_new_null();
	if (eku == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (int i = 0; i < p->n_eku && r == 0; i++) {
		ASN1_OBJECT *o = OBJ_txt2obj(p->eku[i], 1);
		if (o == NULL || !sk_ASN1_OBJECT_push(eku, o)) {
			ASN1_OBJECT_free(o);
			r = cer_err(CER_E_INPUT, "bad EKU OID %s", p->eku[i]);
		}
	}
	if (r == 0)
		r = add_ext(x, NID_ext_key_usage, eku, 0);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return r;
}

static int add_policies(X509 *x, const struct profile *p, char (*extra)[PROFILE_OID_MAX],
			int n_extra)
{
	CERTIFICATEPOLICIES *pols;
	int r = 0, n = p->n_policies + n_extra;

	if (n == 0)
		return 0;
	pols = sk_POLICYINFO_new_null();
	if (pols == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (int i = 0; i < n && r == 0; i++) {
		const char *oid = i < p->n_policies ? p->policies[i] : extra[i - p->n_policies];
		POLICYINFO *pi = POLICYINFO_new();
		if (pi == NULL) {
			r = cer_err(CER_E_NOMEM, "out of memory");
			break;
		}
		ASN1_OBJECT_free(pi->policyid);
		pi->policyid = OBJ_txt2obj(oid, 1);
		if (pi->policyid == NULL || !sk_POLICYINFO_push(pols, pi)) {
			POLICYINFO_free(pi);
			r = cer_err(CER_E_INPUT, "bad policy OID %s", oid);
		}
	}
	if (r == 0)
		r = add_ext(x, NID_certificate_policies, pols, 0);
	sk_POLICYINFO_pop_free(pols, POLICYINFO_free);
	return r;
}

static int add_key_identifiers(X509 *x, const struct profile *p, X509 *issuer)
{
	ASN1_OCTET_STRING *ski = NULL;
	AUTHORITY_KEYID *akid = NULL;
	const ASN1_OCTET_STRING *issuer_ski;
	int r = 0;

	if (p->ski != PROFILE_SKI_NONE) {
		if ((r = key_identifier(x, p->ski, &ski)) != 0)
			return r;
		r = add_ext(x, NID_subject_key_identifier, ski, 0);
	}
	if (r == 0 && p->aki && issuer != NULL) {
		issuer_ski = X509_get0_subject_key_id(issuer);
		if (issuer_ski == NULL) {
			r = cer_err(CER_E_INPUT, "the issuer certificate has no subjectKeyIdentifier");
			goto out;
		}
		akid = AUTHORITY_KEYID_new();
		if (akid == NULL || (akid->keyid = ASN1_OCTET_STRING_dup(issuer_ski)) == NULL) {
			r = cer_err(CER_E_NOMEM, "out of memory");
			goto out;
		}
		r = add_ext(x, NID_authority_key_identifier, akid, 0);
	}
out:
	AUTHORITY_KEYID_free(akid);
	ASN1_OCTET_STRING_free(ski);
	return r;
}

/* Build an extension from OpenSSL's own config syntax ("URI:http://...,URI:..."). */
static int add_conf_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, NULL, x, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return cer_err_ssl(CER_E_INPUT, "cannot build extension %s from \"%s\"",
				   OBJ_nid2sn(nid), value);
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : cer_err_ssl(CER_E_CRYPTO, "cannot add extension %s", OBJ_nid2sn(nid));
}

/* Join "prefix" + entry with commas; entries were checked to hold no comma. */
static int join_list(char *out, size_t size, const char *prefix, char (*list)[PROFILE_URI_MAX],
		     int n, const char *sep)
{
	size_t used = strlen(out);

	for (int i = 0; i < n; i++) {
		if (strchr(list[i], ',') != NULL)
			return cer_err(CER_E_INPUT, "\"%s\" contains a comma", list[i]);
		int k = snprintf(out + used, size - used, "%s%s%s", used > 0 ? sep : "", prefix,
				 list[i]);
		if (k < 0 || (size_t)k >= size - used)
			return cer_err(CER_E_INPUT, "extension value too long");
		used += (size_t)k;
	}
	return 0;
}

static int add_profile_urls(X509 *x, const struct profile *p)
{
	char v[PROFILE_MAX_URIS * 2 * (PROFILE_URI_MAX + 32)];
	int r;

	if (p->n_crldp > 0) {
		v[0] = '\0';
		if ((r = join_list(v, sizeof(v), "URI:", (char (*)[PROFILE_URI_MAX])p->crldp,
				   p->n_crldp, ",")) != 0 ||
		    (r = add_conf_ext(x, NID_crl_distribution_points, v)) != 0)
			return r;
	}
	if (p->n_aia_ca_issuers + p->n_aia_ocsp > 0) {
		v[0] = '\0';
		if ((r = join_list(v, sizeof(v), "caIssuers;URI:",
				   (char (*)[PROFILE_URI_MAX])p->aia_ca_issuers, p->n_aia_ca_issuers,
				   ",")) != 0 ||
		    (r = join_list(v, sizeof(v), "OCSP;URI:", (char (*)[PROFILE_URI_MAX])p->aia_ocsp,
				   p->n_aia_ocsp, ",")) != 0 ||
		    (r = add_conf_ext(x, NID_info_access, v)) != 0)
			return r;
	}
	if (p->n_nc_permitted + p->n_nc_excluded > 0) {
		/* RFC 5280 4.2.1.10: MUST be critical. */
		snprintf(v, sizeof(v), "critical");
		if ((r = join_list(v, sizeof(v), "permitted;",
				   (char (*)[PROFILE_URI_MAX])p->nc_permitted, p->n_nc_permitted,
				   ",")) != 0 ||
		    (r = join_list(v, sizeof(v), "excluded;", (char (*)[PROFILE_URI_MAX])p->nc_excluded,
				   p->n_nc_excluded, ",")) != 0 ||
		    (r = add_conf_ext(x, NID_name_constraints, v)) != 0)
			return r;
	}
	return 0;
}

/* X509_set_pubkey through a legacy copy of an EC or RSA key (same SubjectPublicKeyInfo;
 * callers compare its bytes with the request's); any other key as it is. */
static int set_pubkey(X509 *x, EVP_PKEY *key)
{
	EVP_PKEY *legacy = EVP_PKEY_new();
	EC_KEY *ec = NULL;
	RSA *rsa = NULL;
	int ok = 0;

	if (legacy != NULL) {
		switch (EVP_PKEY_get_base_id(key)) {
		case EVP_PKEY_EC:
			ec = EVP_PKEY_get1_EC_KEY(key);
			ok = ec != NULL && EVP_PKEY_assign_EC_KEY(legacy, ec) == 1;
			if (!ok)
				EC_KEY_free(ec);
			break;
		case EVP_PKEY_RSA:
			rsa = EVP_PKEY_get1_RSA(key);
			ok = rsa != NULL && EVP_PKEY_assign_RSA(legacy, rsa) == 1;
			if (!ok)
				RSA_free(rsa);
			break;
		default:
			break;
		}
	}
	ERR_clear_error();
	ok = X509_set_pubkey(x, ok ? legacy : key);
	EVP_PKEY_free(legacy);
	return ok;
}

int certbuild_new(const struct profile *p, X509_NAME *subject, EVP_PKEY *subject_key,
		  X509 *issuer, ASN1_INTEGER *serial, char (*extra_policies)[PROFILE_OID_MAX],
		  int n_extra, X509 **out)
{
	X509 *x = X509_new();
	int r;

	*out = NULL;
	if (x == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if (!X509_set_version(x, X509_VERSION_3) || !X509_set_serialNumber(x, serial) ||
	    !X509_set_subject_name(x, subject) ||
	    !X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : subject) ||
	    !set_pubkey(x, subject_key)) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot fill in the certificate");
		goto fail;
	}
	if ((r = set_validity(x, p)) != 0 || (r = add_basic_constraints(x, p)) != 0 ||
	    (r = add_key_usage(x, p)) != 0 || (r = add_eku(x, p)) != 0 ||
	    (r = add_policies(x, p, extra_policies, n_extra)) != 0 ||
	    (r = add_key_identifiers(x, p, issuer)) != 0 ||
	    (r = add_profile_urls(x, p)) != 0)
		goto fail;
	*out = x;
	return 0;
fail:
	X509_free(x);
	return r;
}

int certbuild_sign(X509 *x, EVP_PKEY *signer, const EVP_MD *md, EVP_PKEY *verify_key)
{
	if (X509_sign(x, signer, md) <= 0)
		return cer_err_ssl(CER_E_CRYPTO, "the HSM did not sign the certificate");
	if (X509_verify(x, verify_key) != 1)
		return cer_err_ssl(CER_E_VERIFY,
				   "the certificate's signature does not verify with the expected "
				   "public key; nothing was written");
	return 0;
}

int certbuild_fingerprint(X509 *x, uint8_t out[SHA256_LEN])
{
	unsigned int len = 0;

	if (!X509_digest(x, EVP_sha256(), out, &len) || len != SHA256_LEN)
		return cer_err_ssl(CER_E_CRYPTO, "cannot hash the certificate");
	return 0;
}

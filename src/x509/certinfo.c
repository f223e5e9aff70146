#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "ceremony/certinfo.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/readaloud.h"
#include "ceremony/sizes.h"

int certinfo_spki_sha256(EVP_PKEY *key, uint8_t out[SHA256_LEN])
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int n = i2d_PUBKEY(key, &der), ok;

	if (n <= 0)
		return cer_err_ssl(CER_E_CRYPTO, "cannot encode the public key");
	ok = EVP_Digest(der, (size_t)n, out, &mdlen, EVP_sha256(), NULL);
	OPENSSL_free(der);
	return ok ? 0 : cer_err_ssl(CER_E_CRYPTO, "cannot hash the public key");
}

int certinfo_serial_hex(X509 *x, char out[41])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	int r = 0;

	if (hex == NULL || strlen(hex) > 40)
		r = cer_err(CER_E_INPUT, "the serial number is missing or longer than 20 octets");
	else
		memcpy(out, hex, strlen(hex) + 1);
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

static void time_text(const ASN1_TIME *t, char *out, size_t size)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 || strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

static json_t *policies_json(X509 *x)
{
	CERTIFICATEPOLICIES *pols = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
	json_t *arr = json_array();
	char oid[128];

	for (int i = 0; arr != NULL && pols != NULL && i < sk_POLICYINFO_num(pols); i++) {
		OBJ_obj2txt(oid, sizeof(oid), sk_POLICYINFO_value(pols, i)->policyid, 1);
		json_array_append_new(arr, json_string(oid));
	}
	sk_POLICYINFO_pop_free(pols, POLICYINFO_free);
	return arr;
}

int certinfo_name_rfc4514(const X509_NAME *name, char *out, size_t size)
{
	/* RFC 4514 (the RFC 2253 flags): most significant RDN last, ",+\"\\<>;" and
	 * leading '#'/space escaped, non-ASCII kept as UTF-8 rather than \XX bytes,
	 * so a literal backslash sequence and the character it spells differ. */
	unsigned long flags = (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) | ASN1_STRFLGS_UTF8_CONVERT;
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL;
	long n;
	int r = 0;

	if (b == NULL || X509_NAME_print_ex(b, name, 0, flags) < 0)
		r = cer_err_ssl(CER_E_CRYPTO, "cannot print a name");
	else if ((n = BIO_get_mem_data(b, &data)) < 0 || (size_t)n >= size)
		r = cer_err(CER_E_INPUT, "a name is longer than %zu bytes as text", size);
	else {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
	return r;
}

json_t *certinfo_name_json(const X509_NAME *name, json_t *obj, const char *text_key,
			   const char *der_key)
{
	char text[CERTINFO_NAME_TEXT_MAX], *hex = NULL;
	const unsigned char *der = NULL;
	size_t len = 0;

	if (obj == NULL || certinfo_name_rfc4514(name, text, sizeof(text)) != 0 ||
	    X509_NAME_get0_der(name, &der, &len) <= 0 || (hex = malloc(2 * len + 1)) == NULL) {
		json_decref(obj);
		return NULL;
	}
	hex_encode(der, len, hex);
	json_object_set_new(obj, text_key, json_string(text));
	json_object_set_new(obj, der_key, json_string(hex));
	free(hex);
	return obj;
}

/* The certificate's own SubjectPublicKeyInfo bytes, hashed (no re-encoding of the key). */
static int cert_spki_sha256(X509 *x, uint8_t out[SHA256_LEN])
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der), ok;

	if (n <= 0)
		return cer_err_ssl(CER_E_CRYPTO, "cannot encode the public key");
	ok = EVP_Digest(der, (size_t)n, out, &mdlen, EVP_sha256(), NULL);
	OPENSSL_free(der);
	return ok ? 0 : cer_err_ssl(CER_E_CRYPTO, "cannot hash the public key");
}

json_t *certinfo_json(X509 *x, const char *profile_name)
{
	char serial[41] = "", nb[TIME_TEXT_SIZE], na[TIME_TEXT_SIZE], fp_hex[SHA256_HEX_SIZE],
	     spki_hex[SHA256_HEX_SIZE];
	uint8_t fp[SHA256_LEN], spki[SHA256_LEN];
	unsigned int len = 0;
	json_t *o, *rest;

	if (certinfo_serial_hex(x, serial) != 0 || !X509_digest(x, EVP_sha256(), fp, &len) ||
	    cert_spki_sha256(x, spki) != 0)
		return NULL;
	time_text(X509_get0_notBefore(x), nb, sizeof(nb));
	time_text(X509_get0_notAfter(x), na, sizeof(na));
	hex_encode(fp, SHA256_LEN, fp_hex);
	hex_encode(spki, SHA256_LEN, spki_hex);
	/* Keys in this order: subject (RFC 4514 text), subject_der (hex), then the rest. */
	o = certinfo_name_json(X509_get_subject_name(x), json_object(), "subject", "subject_der");
	if (o == NULL)
		return NULL;
	rest = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "serial", serial, "not_before", nb,
			 "not_after", na, "sha256", fp_hex, "spki_sha256", spki_hex, "profile",
			 profile_name, "policies", policies_json(x));
	if (rest == NULL || json_object_update(o, rest) != 0) {
		json_decref(rest);
		json_decref(o);
		return NULL;
	}
	json_decref(rest);
	return o;
}

void certinfo_print(FILE *out, X509 *x)
{
	char subject[1024], serial[41] = "", na[TIME_TEXT_SIZE];
	uint8_t fp[SHA256_LEN];
	unsigned int len = 0;
	json_t *pols = policies_json(x);
	size_t i;
	json_t *p;

	if (X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject)) == NULL)
		subject[0] = '\0';
	if (certinfo_serial_hex(x, serial) != 0)
		serial[0] = '\0';
	time_text(X509_get0_notAfter(x), na, sizeof(na));
	fprintf(out, "  %-14s %s\n  %-14s %s\n  %-14s %s\n", "subject", subject, "serial", serial,
		"not after", na);
	json_array_foreach(pols, i, p) fprintf(out, "  %-14s %s\n", "policy", json_string_value(p));
	json_decref(pols);
	if (X509_digest(x, EVP_sha256(), fp, &len))
		readaloud_print(out, "sha256", fp, SHA256_LEN);
}

int certinfo_tbs_sha256(X509 *x, uint8_t out[SHA256_LEN])
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int n = i2d_re_X509_tbs(x, &der), ok;

	ok = n > 0 && EVP_Digest(der, (size_t)n, out, &mdlen, EVP_sha256(), NULL);
	OPENSSL_free(der);
	return ok ? 0 : cer_err_ssl(CER_E_CRYPTO, "cannot encode the TBS certificate");
}

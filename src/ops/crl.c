#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "ceremony/certinfo.h"
#include "ceremony/crl.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/history.h"
#include "ceremony/hsm.h"
#include "ceremony/hsmkey.h"
#include "ceremony/p11key.h"
#include "ceremony/pem.h"
#include "ceremony/readaloud.h"
#include "ceremony/transcript.h"

/* RFC 5280 5.3.1; "unspecified" is never written (the extension is left out instead). */
static const struct {
	const char *name;
	int code;
} crl_reasons[] = {
	{"keyCompromise", 1},	     {"cACompromise", 2},	{"affiliationChanged", 3},
	{"superseded", 4},	     {"cessationOfOperation", 5}, {"privilegeWithdrawn", 9},
};

int crl_reason_code(const char *name)
{
	for (size_t i = 0; i < sizeof(crl_reasons) / sizeof(crl_reasons[0]); i++)
		if (strcmp(name, crl_reasons[i].name) == 0)
			return crl_reasons[i].code;
	return -1;
}

static int serial_ok(const char *hex)
{
	size_t len = strlen(hex);

	if (len == 0 || len > 40)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)hex[i]))
			return 0;
	return 1;
}

static int crl_add_entry(X509_CRL *crl, const char *hex, int reason, long long when)
{
	X509_REVOKED *rev = X509_REVOKED_new();
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *t = ASN1_TIME_new();
	ASN1_ENUMERATED *code = NULL;
	int r = 0;

	if (rev == NULL || t == NULL || !BN_hex2bn(&bn, hex) ||
	    (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_REVOKED_set_serialNumber(rev, serial) || ASN1_TIME_set(t, (time_t)when) == NULL ||
	    !X509_REVOKED_set_revocationDate(rev, t)) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot list serial %s", hex);
		goto out;
	}
	if (reason > 0) {
		code = ASN1_ENUMERATED_new();
		if (code == NULL || !ASN1_ENUMERATED_set(code, reason) ||
		    X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, code, 0, 0) != 1) {
			r = cer_err_ssl(CER_E_CRYPTO, "cannot add the reason for %s", hex);
			goto out;
		}
	}
	if (!X509_CRL_add0_revoked(crl, rev)) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot list serial %s", hex);
		goto out;
	}
	rev = NULL;
out:
	ASN1_ENUMERATED_free(code);
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	X509_REVOKED_free(rev);
	return r;
}

static int crl_build(const struct crl_opts *o, X509 *issuer, const struct history *h,
		     long long number, time_t now, X509_CRL **out)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *this_update = ASN1_TIME_new(), *next_update = ASN1_TIME_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
	int r = 0, reason = o->reason != NULL ? crl_reason_code(o->reason) : 0;

	*out = NULL;
	if (ski == NULL) {
		r = cer_err(CER_E_INPUT, "%s has no subjectKeyIdentifier for the CRL's AKI", o->issuer);
		goto out;
	}
	if (crl == NULL || this_update == NULL || next_update == NULL || num == NULL ||
	    akid == NULL || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) ||
	    ASN1_TIME_set(this_update, now) == NULL ||
	    ASN1_TIME_adj(next_update, now, (int)o->next_update_days, 0) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, this_update) || !X509_CRL_set1_nextUpdate(crl, next_update) ||
	    !ASN1_INTEGER_set_int64(num, number) ||
	    (akid->keyid = ASN1_OCTET_STRING_dup(ski)) == NULL ||
	    X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot build the CRL");
		goto out;
	}
	for (size_t i = 0; i < h->n_revoked && r == 0; i++)
		r = crl_add_entry(crl, h->revoked[i].serial, crl_reason_code(h->revoked[i].reason),
				  h->revoked[i].time);
	for (int i = 0; i < o->n_revoke && r == 0; i++)
		r = crl_add_entry(crl, o->revoke[i], reason, now);
	if (r == 0 && !X509_CRL_sort(crl))
		r = cer_err_ssl(CER_E_CRYPTO, "cannot sort the CRL");
	if (r == 0) {
		*out = crl;
		crl = NULL;
	}
out:
	AUTHORITY_KEYID_free(akid);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(this_update);
	ASN1_TIME_free(next_update);
	X509_CRL_free(crl);
	return r;
}

static int crl_check_opts(const struct crl_opts *o, const struct history *h)
{
	if (o->next_update_days < 1 || o->next_update_days > CRL_MAX_NEXT_UPDATE_DAYS)
		return cer_err(CER_E_USAGE,
			       "--next-update must be 1 to %d days (CA/B BR 4.9.7: at most 12 months)",
			       CRL_MAX_NEXT_UPDATE_DAYS);
	if (o->n_revoke > 0 && o->reason == NULL)
		return cer_err(CER_E_USAGE, "--revoke needs --reason (keyCompromise, cACompromise, "
					    "affiliationChanged, superseded, cessationOfOperation, "
					    "privilegeWithdrawn)");
	if (o->reason != NULL && crl_reason_code(o->reason) < 0)
		return cer_err(CER_E_USAGE, "--reason %s is not a CRL reason this tool writes",
			       o->reason);
	for (int i = 0; i < o->n_revoke; i++) {
		if (!serial_ok(o->revoke[i]))
			return cer_err(CER_E_USAGE, "--revoke %s is not a serial number in hex",
				       o->revoke[i]);
		for (size_t j = 0; j < h->n_revoked; j++)
			if (strcasecmp(o->revoke[i], h->revoked[j].serial) == 0)
				return cer_err(CER_E_REFUSED, "serial %s is already revoked", o->revoke[i]);
	}
	return 0;
}

static json_t *crl_record_details(const struct crl_opts *o, const struct history *h,
				  long long number, time_t now, X509_CRL *crl)
{
	json_t *revoked = json_array(), *details;
	char nu[32], tu[32];
	struct tm tm;

	for (size_t i = 0; revoked != NULL && i < h->n_revoked; i++)
		json_array_append_new(revoked, json_pack("{s:s, s:s, s:I}", "serial",
							 h->revoked[i].serial, "reason",
							 h->revoked[i].reason, "time",
							 (json_int_t)h->revoked[i].time));
	for (int i = 0; revoked != NULL && i < o->n_revoke; i++) {
		char up[41];
		size_t k;
		for (k = 0; o->revoke[i][k] != '\0' && k < 40; k++)
			up[k] = (char)toupper((unsigned char)o->revoke[i][k]);
		up[k] = '\0';
		json_array_append_new(revoked,
				      json_pack("{s:s, s:s, s:I, s:b}", "serial", up, "reason", o->reason,
						"time", (json_int_t)now, "known",
						history_has_serial(h, up)));
	}
	gmtime_r(&now, &tm);
	(void)strftime(tu, sizeof(tu), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (ASN1_TIME_to_tm(X509_CRL_get0_nextUpdate(crl), &tm) != 1 ||
	    strftime(nu, sizeof(nu), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		nu[0] = '\0';
	details = json_pack("{s:I, s:s, s:s, s:o}", "crl_number", (json_int_t)number, "this_update",
			    tu, "next_update", nu, "revoked", revoked);
	return details;
}

int crl_sign(struct ceremony_ctx *ctx, const struct crl_opts *o, FILE *out)
{
	struct history *h = NULL;
	struct transcript *tr = NULL;
	struct hsmkey *hk = NULL;
	struct hsm hs;
	struct p11key k;
	X509 *issuer = NULL;
	X509_CRL *crl = NULL;
	uint8_t *pem = NULL, md[32];
	size_t pem_len = 0;
	unsigned int mdlen = 0;
	unsigned char *der = NULL;
	json_t *in = NULL, *outs = NULL, *e = NULL;
	const char *tpath;
	long long number;
	time_t now = time(NULL);
	int r, n;

	memset(&hs, 0, sizeof(hs));
	if ((r = ctx_transcript_path(ctx, "crl sign", &tpath)) != 0 ||
	    (r = history_load_beside(tpath, o->history_dir, &h)) != 0 || (r = crl_check_opts(o, h)) != 0 ||
	    (r = pem_load_cert(o->issuer, &issuer)) != 0 || (r = file_check_new(o->out)) != 0 ||
	    (r = ctx_transcript_open(ctx, "crl sign", &tr)) != 0)
		goto out;
	/* RFC 5280 5.2.3: monotonically increasing over the CA's life. */
	number = h->max_crl_number + 1;
	if ((r = crl_build(o, issuer, h, number, now, &crl)) != 0)
		goto out;
	if ((r = hsm_open(ctx, o->token, &hs)) != 0 || (r = hsm_login_user(ctx, &hs)) != 0 ||
	    (r = p11key_find(hs.session, o->key, &k)) != 0 ||
	    (r = hsmkey_open(p11_module_path(hs.module), &hs.token, &k, &hk)) != 0)
		goto out;
	if (EVP_PKEY_eq(X509_get0_pubkey(issuer), hsmkey_pkey(hk)) != 1) {
		r = cer_err(CER_E_REFUSED, "%s is not the certificate of key \"%s\"; nothing was signed",
			    o->issuer, o->key);
		goto out;
	}
	if (X509_CRL_sign(crl, hsmkey_pkey(hk), hsmkey_digest(k.type)) <= 0) {
		r = cer_err_ssl(CER_E_CRYPTO, "the HSM did not sign the CRL");
		goto out;
	}
	if (X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1) {
		r = cer_err_ssl(CER_E_VERIFY, "the CRL's signature does not verify; nothing was written");
		goto out;
	}
	if ((r = pem_encode_crl(crl, &pem, &pem_len)) != 0 ||
	    (r = file_write_new(o->out, pem, pem_len)) != 0)
		goto out;
	if ((r = transcript_file_entry(tr, o->issuer, &e)) != 0)
		goto out;
	in = json_pack("[o]", e);
	if ((r = transcript_file_entry(tr, o->out, &e)) != 0)
		goto out;
	outs = json_pack("[o]", e);
	r = transcript_append(tr, "crl.sign", in, outs, crl_record_details(o, h, number, now, crl),
			      NULL);
	in = outs = NULL;
	if (r != 0)
		goto out;
	n = i2d_X509_CRL(crl, &der);
	fprintf(out, "CRL number %lld written to %s: %d revoked, next update in %ld days\n", number,
		o->out, sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), o->next_update_days);
	if (n > 0 && EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL))
		readaloud_print(out, "sha256", md, 32);
out:
	OPENSSL_free(der);
	json_decref(in);
	json_decref(outs);
	free(pem);
	hsm_session_end(&hs);
	hsmkey_free(hk);
	hsm_close(&hs);
	X509_CRL_free(crl);
	X509_free(issuer);
	transcript_close(tr);
	history_free(h);
	return r;
}

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
#include "ceremony/lint.h"
#include "ceremony/hsm.h"
#include "ceremony/hsmkey.h"
#include "ceremony/p11key.h"
#include "ceremony/pem.h"
#include "ceremony/readaloud.h"
#include "ceremony/sizes.h"
#include "ceremony/transcript.h"

/* A positive serial in hex, at most 20 octets (RFC 5280 4.1.2.2); NULL when fine. */
static const char *serial_problem(const char *hex)
{
	size_t len = strlen(hex), zeros = 0;

	if (hex[0] == '-')
		return "is negative (RFC 5280 4.1.2.2: serial numbers are positive)";
	if (len == 0 || len > 40)
		return "is not a serial number of 1 to 20 octets in hex";
	for (size_t i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)hex[i]))
			return "is not a serial number in hex";
		zeros += hex[i] == '0';
	}
	return zeros == len ? "is zero (RFC 5280 4.1.2.2: serial numbers are positive)" : NULL;
}

/* The serial as the history writes it: uppercase, no leading zeros (BN_bn2hex). */
static void serial_canonical(const char *hex, char out[HISTORY_SERIAL_HEX_MAX])
{
	size_t k = 0;

	while (hex[0] == '0' && hex[1] != '\0')
		hex++;
	for (; hex[k] != '\0' && k < HISTORY_SERIAL_HEX_MAX - 1; k++)
		out[k] = (char)toupper((unsigned char)hex[k]);
	out[k] = '\0';
	if (k % 2 != 0) { /* BN_bn2hex gives whole octets */
		memmove(out + 1, out, k + 1);
		out[0] = '0';
	}
}

/*
 * BR 7.2.2: a CA certificate's entry carries a reasonCode, never unspecified,
 * and privilegeWithdrawn is a subscriber reason; cACompromise is about a CA's
 * key, so it is not an end entity's reason. A serial the history did not issue
 * could be anything: it needs a reason too.
 */
static int crl_reason_allowed(const char *serial, const char *reason, int is_ca, int known)
{
	if (strcmp(reason, "unspecified") == 0 && (is_ca || !known))
		return cer_err(CER_E_REFUSED,
			       "serial %s: %s needs a stated reason (BR 7.2.2), not unspecified",
			       serial, is_ca ? "a CA certificate" : "a serial the history never issued");
	if (strcmp(reason, "privilegeWithdrawn") == 0 && is_ca)
		return cer_err(CER_E_REFUSED,
			       "serial %s is a CA certificate: privilegeWithdrawn is a subscriber's "
			       "reason (BR 7.2.2)",
			       serial);
	if (strcmp(reason, "cACompromise") == 0 && !is_ca && known)
		return cer_err(CER_E_REFUSED,
			       "serial %s is not a CA certificate: cACompromise is for CAs (RFC 5280 "
			       "5.3.1)",
			       serial);
	return 0;
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
	int r = 0;

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
		r = crl_add_entry(crl, h->revoked[i].serial, lint_crl_reason_code(h->revoked[i].reason),
				  h->revoked[i].time);
	for (int i = 0; i < o->n_revoke && r == 0; i++)
		r = crl_add_entry(crl, o->revoke[i], lint_crl_reason_code(o->reason[i]), now);
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

static int crl_check_entry(const struct crl_opts *o, const struct history *h, int i)
{
	char serial[HISTORY_SERIAL_HEX_MAX];
	const char *why = serial_problem(o->revoke[i]);
	int known;

	if (why != NULL)
		return cer_err(CER_E_USAGE, "--revoke %s %s", o->revoke[i], why);
	if (o->reason[i] == NULL)
		return cer_err(CER_E_USAGE,
			       "--revoke %s needs its own --reason right after it (keyCompromise, "
			       "cACompromise, affiliationChanged, superseded, cessationOfOperation, "
			       "privilegeWithdrawn, unspecified)",
			       o->revoke[i]);
	if (strcmp(o->reason[i], "unspecified") != 0 && lint_crl_reason_code(o->reason[i]) < 0)
		return cer_err(CER_E_USAGE, "--reason %s is not a CRL reason this tool writes",
			       o->reason[i]);
	serial_canonical(o->revoke[i], serial);
	known = history_has_serial(h, serial);
	if (!known && !o->allow_unknown_serial)
		return cer_err(CER_E_REFUSED,
			       "serial %s was never issued by this CA (its history has no such "
			       "certificate); give --allow-unknown-serial to revoke it anyway",
			       serial);
	for (size_t j = 0; j < h->n_revoked; j++)
		if (strcasecmp(serial, h->revoked[j].serial) == 0)
			return cer_err(CER_E_REFUSED, "serial %s is already revoked", serial);
	for (int j = 0; j < i; j++) {
		char other[HISTORY_SERIAL_HEX_MAX];
		serial_canonical(o->revoke[j], other);
		if (strcmp(serial, other) == 0)
			return cer_err(CER_E_USAGE, "--revoke %s is given twice", serial);
	}
	return crl_reason_allowed(serial, o->reason[i], history_find_ca(h, serial) != NULL, known);
}

static int crl_check_opts(const struct crl_opts *o, const struct history *h)
{
	int r;

	if (o->next_update_days < 1 || o->next_update_days > CRL_MAX_NEXT_UPDATE_DAYS)
		return cer_err(CER_E_USAGE,
			       "--next-update must be 1 to %d days (CA/B BR 4.9.7: at most 12 months)",
			       CRL_MAX_NEXT_UPDATE_DAYS);
	for (int i = 0; i < o->n_revoke; i++)
		if ((r = crl_check_entry(o, h, i)) != 0)
			return r;
	return 0;
}

static void time_rfc3339(long long when, char out[TIME_TEXT_SIZE])
{
	time_t t = (time_t)when;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, TIME_TEXT_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

static json_t *crl_record_details(const struct crl_opts *o, const struct history *h,
				  long long number, time_t now, X509_CRL *crl)
{
	json_t *revoked = json_array(), *details;
	char nu[TIME_TEXT_SIZE], tu[TIME_TEXT_SIZE], t[TIME_TEXT_SIZE];
	struct tm tm;

	/* RFC 3339 times, as every other time in the transcript. */
	for (size_t i = 0; revoked != NULL && i < h->n_revoked; i++) {
		time_rfc3339(h->revoked[i].time, t);
		json_array_append_new(revoked, json_pack("{s:s, s:s, s:s}", "serial",
							 h->revoked[i].serial, "reason",
							 h->revoked[i].reason, "time", t));
	}
	time_rfc3339((long long)now, tu);
	for (int i = 0; revoked != NULL && i < o->n_revoke; i++) {
		char up[HISTORY_SERIAL_HEX_MAX];
		serial_canonical(o->revoke[i], up);
		json_array_append_new(revoked,
				      json_pack("{s:s, s:s, s:s, s:b, s:b}", "serial", up, "reason",
						o->reason[i], "time", tu, "known",
						history_has_serial(h, up), "ca",
						history_find_ca(h, up) != NULL));
	}
	if (ASN1_TIME_to_tm(X509_CRL_get0_nextUpdate(crl), &tm) != 1 ||
	    strftime(nu, sizeof(nu), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		nu[0] = '\0';
	details = json_pack("{s:I, s:s, s:s, s:o, s:b}", "crl_number", (json_int_t)number,
			    "this_update", tu, "next_update", nu, "revoked", revoked,
			    "allow_unknown_serial", o->allow_unknown_serial);
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
	uint8_t *pem = NULL, md[SHA256_LEN], tbs[SHA256_LEN];
	size_t pem_len = 0;
	unsigned int mdlen = 0;
	unsigned char *der = NULL;
	json_t *in = NULL, *outs = NULL;
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
	/* The quorum approves the final TBSCertList before the HSM signs (docs/quorum.md). */
	if ((r = crl_quorum(ctx, tr, o, h, issuer, crl, out, tbs)) != 0)
		goto out;
	if ((r = hsm_open(ctx, o->token, &hs)) != 0 || (r = hsm_login_user(ctx, &hs)) != 0 ||
	    (r = p11key_find_signer(hs.session, o->key, &k, NULL)) != 0 ||
	    (r = hsmkey_open(hs.session, &k, &hk)) != 0)
		goto out;
	if ((r = hsmkey_cert_check(hk, issuer, o->issuer, "nothing was signed")) != 0)
		goto out;
	if (X509_CRL_sign(crl, hsmkey_pkey(hk), hsmkey_digest(k.type)) <= 0) {
		r = cer_err_ssl(CER_E_CRYPTO, "the HSM did not sign the CRL");
		goto out;
	}
	if (X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1) {
		r = cer_err_ssl(CER_E_VERIFY, "the CRL's signature does not verify; nothing was written");
		goto out;
	}
	if ((r = crl_quorum_signed(crl, tbs)) != 0)
		goto out;
	/* The lints transcript verify and audit run again (docs/lint.md). */
	if ((r = lint_crl(crl, issuer)) != 0) {
		cer_err_prefix("the signed CRL was not written: ");
		goto out;
	}
	if ((r = pem_encode_crl(crl, &pem, &pem_len)) != 0 ||
	    (r = file_write_public(o->out, pem, pem_len)) != 0)
		goto out;
	if ((r = transcript_files(tr, &in, o->issuer, NULL)) != 0 ||
	    (r = transcript_files(tr, &outs, o->out, NULL)) != 0)
		goto out;
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

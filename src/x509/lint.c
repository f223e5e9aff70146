#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ceremony/certsig.h"
#include "ceremony/err.h"
#include "ceremony/lint.h"
#include "ceremony/subject.h"

/* Each rule has a name, listed in docs/lint.md with its source; the message starts
 * with it ("lint cert-serial-entropy: ..."), so tests and operators see which fired. */
#define LINT(name, cond, ...)                                                         \
	do {                                                                          \
		if (!(cond))                                                          \
			return cer_err(CER_E_REFUSED, "lint " name ": " __VA_ARGS__); \
	} while (0)

static int lint_serial(X509 *x)
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(x);
	BIGNUM *bn = ASN1_INTEGER_to_BN(s, NULL);
	int bits = bn != NULL ? BN_num_bits(bn) : 0, neg = bn != NULL && BN_is_negative(bn);

	BN_free(bn);
	/* RFC 5280 4.1.2.2: positive, at most 20 octets; BR 7.1: 64 random bits. */
	LINT("cert-serial-positive", !neg && bits > 0, "the serial number is not positive");
	LINT("cert-serial-entropy", bits >= 64, "the serial number has only %d bits", bits);
	LINT("cert-serial-length", ASN1_STRING_length(s) <= 20, "the serial number is longer than 20 octets");
	return 0;
}

static int ext_count(X509 *x, int nid)
{
	int n = 0, pos = -1;

	while ((pos = X509_get_ext_by_NID(x, nid, pos)) >= 0)
		n++;
	return n;
}

static int ext_critical(X509 *x, int nid)
{
	int pos = X509_get_ext_by_NID(x, nid, -1);
	return pos >= 0 && X509_EXTENSION_get_critical(X509_get_ext(x, pos));
}

static int lint_extensions_unique(X509 *x)
{
	for (int i = 0; i < X509_get_ext_count(x); i++) {
		ASN1_OBJECT *o = X509_EXTENSION_get_object(X509_get_ext(x, i));
		for (int j = i + 1; j < X509_get_ext_count(x); j++)
			LINT("cert-extensions-unique",
			     OBJ_cmp(o, X509_EXTENSION_get_object(X509_get_ext(x, j))) != 0,
			     "extension %s appears twice", OBJ_nid2sn(OBJ_obj2nid(o)));
	}
	return 0;
}

static int lint_basic_constraints(X509 *x, const struct profile *p)
{
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	int ca = bc != NULL && bc->ca, has_len = bc != NULL && bc->pathlen != NULL;
	long len = has_len ? ASN1_INTEGER_get(bc->pathlen) : -1;

	BASIC_CONSTRAINTS_free(bc);
	LINT("cert-basic-constraints", ext_count(x, NID_basic_constraints) == 1, "basicConstraints is missing");
	LINT("cert-basic-constraints", ext_critical(x, NID_basic_constraints), "basicConstraints is not critical");
	LINT("cert-basic-constraints", ca == p->ca, "basicConstraints cA is %s, the profile says %s", ca ? "TRUE" : "FALSE",
	     p->ca ? "TRUE" : "FALSE");
	LINT("cert-path-len", len == p->path_len, "pathLenConstraint is %ld, the profile says %ld", len, p->path_len);
	return 0;
}

static int lint_key_usage(X509 *x, const struct profile *p)
{
	uint32_t ku = X509_get_key_usage(x);

	LINT("cert-key-usage", ext_count(x, NID_key_usage) == 1, "keyUsage is missing");
	LINT("cert-key-usage", ext_critical(x, NID_key_usage), "keyUsage is not critical");
	LINT("cert-key-usage", ku == p->key_usage, "keyUsage 0x%x differs from the profile's 0x%x", ku, p->key_usage);
	LINT("cert-key-usage", !(ku & KU_KEY_CERT_SIGN) || p->ca, "keyCertSign without cA");
	return 0;
}

static int lint_eku(X509 *x, const struct profile *p)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	int n = eku != NULL ? sk_ASN1_OBJECT_num(eku) : 0, ok = n == p->n_eku;
	char oid[PROFILE_OID_MAX];

	for (int i = 0; ok && i < n; i++) {
		OBJ_obj2txt(oid, sizeof(oid), sk_ASN1_OBJECT_value(eku, i), 1);
		ok = profile_oid_listed(oid, (const char(*)[PROFILE_OID_MAX])p->eku, p->n_eku);
	}
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	LINT("cert-eku", ok, "extendedKeyUsage differs from the profile");
	return 0;
}

static int policy_listed(const char *oid, const struct lint_input *in)
{
	const struct profile *p = in->profile;

	return profile_oid_listed(oid, (const char(*)[PROFILE_OID_MAX])p->policies, p->n_policies) ||
	       profile_oid_listed(oid, (const char(*)[PROFILE_OID_MAX])in->extra_policies,
				  in->n_extra);
}

static int lint_policies(const struct lint_input *in)
{
	const struct profile *p = in->profile;
	CERTIFICATEPOLICIES *pols = X509_get_ext_d2i(in->cert, NID_certificate_policies, NULL, NULL);
	int n = pols != NULL ? sk_POLICYINFO_num(pols) : 0, ok = n == p->n_policies + in->n_extra;
	int any = 0, voucher = 0, qualifiers = 0;
	char oid[PROFILE_OID_MAX];

	for (int i = 0; i < n; i++) {
		POLICYINFO *pi = sk_POLICYINFO_value(pols, i);
		OBJ_obj2txt(oid, sizeof(oid), pi->policyid, 1);
		ok = ok && policy_listed(oid, in);
		any |= strcmp(oid, "2.5.29.32.0") == 0;
		voucher |= profile_oid_listed(oid, (const char(*)[PROFILE_OID_MAX])p->voucher_policies,
					      p->n_voucher_policies);
		qualifiers |= sk_POLICYQUALINFO_num(pi->qualifiers) > 0;
	}
	sk_POLICYINFO_pop_free(pols, POLICYINFO_free);
	LINT("cert-policies", ok, "certificatePolicies differ from the profile and --policy");
	/* The --policy OIDs come only from the profile's allowed_policies (issue 10.3). */
	for (int i = 0; i < in->n_extra; i++)
		LINT("cert-policy-allowed",
		     profile_oid_listed(in->extra_policies[i],
					(const char(*)[PROFILE_OID_MAX])p->allowed_policies,
					p->n_allowed_policies),
		     "policy %s is not in the profile's allowed_policies", in->extra_policies[i]);
	/* RFC 5280 4.2.1.4; BR 7.1.2.10.5: anyPolicy only in a CA named for it, never an EE. */
	LINT("cert-any-policy", !any || p->kind != PROFILE_END_ENTITY,
	     "anyPolicy in an end-entity certificate");
	LINT("cert-voucher-policy", !voucher || p->voucher_signer,
	     "a voucher-authorization policy outside the voucher signer's profile");
	/* BR 7.1.2.10.5 (policyQualifiers NOT RECOMMENDED); we never write them. */
	LINT("cert-policy-qualifiers", !qualifiers, "a policy carries qualifiers");
	LINT("cert-policies-required", !p->policies_required || n > 0,
	     "the profile requires a certificate policy");
	LINT("cert-policies-critical", !ext_critical(in->cert, NID_certificate_policies),
	     "certificatePolicies is critical");
	return 0;
}

static int lint_key_ids(const struct lint_input *in)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(in->cert);
	const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(in->cert);
	const ASN1_OCTET_STRING *issuer_ski =
		in->issuer != NULL ? X509_get0_subject_key_id(in->issuer) : NULL;

	/* RFC 5280 4.2.1.2: SKI in every CA certificate. */
	LINT("cert-ski", in->profile->ski == PROFILE_SKI_NONE || ski != NULL, "subjectKeyIdentifier missing");
	LINT("cert-ski", !in->profile->ca || ski != NULL, "a CA certificate needs a subjectKeyIdentifier");
	if (in->issuer != NULL && in->profile->aki) {
		/* RFC 5280 4.2.1.1: AKI in all but self-signed certificates. */
		LINT("cert-aki", aki != NULL && issuer_ski != NULL, "authorityKeyIdentifier missing");
		LINT("cert-aki", ASN1_OCTET_STRING_cmp(aki, issuer_ski) == 0,
		     "authorityKeyIdentifier is not the issuer's subjectKeyIdentifier");
	}
	return 0;
}

static int lint_names_and_time(const struct lint_input *in)
{
	X509 *x = in->cert;
	const X509_NAME *issuer_name =
		in->issuer != NULL ? X509_get_subject_name(in->issuer) : X509_get_subject_name(x);
	int day, sec;

	LINT("cert-version", X509_get_version(x) == X509_VERSION_3, "not a version 3 certificate");
	/* RFC 5280 4.1.2.4: the issuer name is the issuer's subject, byte for byte. */
	LINT("cert-issuer-name", X509_NAME_cmp(X509_get_issuer_name(x), issuer_name) == 0,
	     "the issuer name is not the issuer's subject");
	LINT("cert-subject-empty", X509_NAME_entry_count(X509_get_subject_name(x)) > 0, "the subject is empty");
	LINT("cert-validity-order", ASN1_TIME_diff(&day, &sec, X509_get0_notBefore(x), X509_get0_notAfter(x)) &&
		     (day > 0 || (day == 0 && sec > 0)),
	     "notAfter is not after notBefore");
	/* A device PKI's root outlives what it signs (issue 10.4; RFC 5280 6.1.3(a)(2)
	 * checks each certificate's own validity, so a child that outlives its issuer
	 * stops verifying when the issuer expires). */
	LINT("cert-validity-nesting",
	     in->issuer == NULL || in->profile->validity_beyond_issuer ||
		     ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(in->issuer)) <= 0,
	     "notAfter is later than the issuer's and the profile does not say "
	     "validity.beyond_issuer");
	for (int i = 0; i < X509_NAME_entry_count(X509_get_subject_name(x)); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(X509_get_subject_name(x), i);
		const char *why = subject_value_problem(X509_NAME_ENTRY_get_data(e));
		LINT("cert-subject-strings", why == NULL, "subject %s %s",
		     OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e))), why);
	}
	return 0;
}

int lint_cn_same(const X509_NAME *a, const X509_NAME *b)
{
	int ia = X509_NAME_get_index_by_NID(a, NID_commonName, -1);
	int ib = X509_NAME_get_index_by_NID(b, NID_commonName, -1);
	X509_NAME *na = X509_NAME_new(), *nb = X509_NAME_new();
	int same = 0;

	if (ia >= 0 && ib >= 0 && na != NULL && nb != NULL &&
	    X509_NAME_add_entry(na, X509_NAME_get_entry(a, ia), -1, 0) &&
	    X509_NAME_add_entry(nb, X509_NAME_get_entry(b, ib), -1, 0))
		same = X509_NAME_cmp(na, nb) == 0;
	X509_NAME_free(na);
	X509_NAME_free(nb);
	return same;
}

/*
 * Issue 10.2: a CA's subject is its own. Equal to its issuer's, a CA is
 * "self-issued" and RFC 5280 6.1.4(l) lets a chain through it skip a pathLen
 * step; equal to another CA's, or with another CA's CN, relying parties
 * cannot tell the two apart.
 */
static int lint_ca_name(const struct lint_input *in)
{
	const X509_NAME *subject = X509_get_subject_name(in->cert);

	if (in->profile->kind != PROFILE_CA)
		return 0;
	LINT("cert-ca-name-unique",
	     in->issuer == NULL || X509_NAME_cmp(subject, X509_get_subject_name(in->issuer)) != 0,
	     "a CA's subject is its issuer's (a self-issued CA certificate)");
	LINT("cert-ca-name-unique",
	     in->issuer == NULL || !lint_cn_same(subject, X509_get_subject_name(in->issuer)),
	     "a CA's CN is its issuer's");
	return lint_ca_name_unique(subject, in->other_cas, in->n_other_cas,
				   "a CA already in the history");
}

/* Equal names (X509_NAME_cmp: canonical encodings) have equal hashes of those
 * encodings; so do equal CNs, each hashed as a one-entry name as lint_cn_same builds it. */
static int name_hashes(const X509_NAME *n, unsigned long *subject, unsigned long *cn, int *has_cn)
{
	int i = X509_NAME_get_index_by_NID(n, NID_commonName, -1), ok = 0;
	X509_NAME *alone;

	*has_cn = 0;
	*subject = X509_NAME_hash_ex(n, NULL, NULL, &ok);
	if (!ok)
		return -1;
	if (i < 0)
		return 0;
	if ((alone = X509_NAME_new()) == NULL ||
	    !X509_NAME_add_entry(alone, X509_NAME_get_entry(n, i), -1, 0)) {
		X509_NAME_free(alone);
		return -1;
	}
	*cn = X509_NAME_hash_ex(alone, NULL, NULL, &ok);
	X509_NAME_free(alone);
	if (!ok)
		return -1;
	*has_cn = 1;
	return 0;
}

void lint_name_der_hash(struct lint_name_der *d)
{
	const unsigned char *p = d->der;
	X509_NAME *n = d2i_X509_NAME(NULL, &p, (long)d->len);

	d->hashed = n != NULL && name_hashes(n, &d->subject_hash, &d->cn_hash, &d->has_cn) == 0;
	X509_NAME_free(n);
	ERR_clear_error();
}

int lint_ca_name_unique(const X509_NAME *subject, const struct lint_name_der *others, size_t n,
			const char *where)
{
	unsigned long hs = 0, hc = 0;
	int has_cn = 0, hashed = name_hashes(subject, &hs, &hc, &has_cn) == 0;

	ERR_clear_error();
	for (size_t i = 0; i < n; i++) {
		const struct lint_name_der *o = &others[i];
		const unsigned char *p = o->der;
		X509_NAME *other;
		int same, same_cn;
		if (hashed && o->hashed && o->subject_hash != hs &&
		    !(has_cn && o->has_cn && o->cn_hash == hc))
			continue; /* neither the name nor the CN can be equal */
		other = d2i_X509_NAME(NULL, &p, (long)o->len);
		same = other != NULL && X509_NAME_cmp(subject, other) == 0;
		same_cn = other != NULL && lint_cn_same(subject, other);
		X509_NAME_free(other);
		LINT("cert-ca-name-unique", !same, "the subject is that of %s", where);
		LINT("cert-ca-name-unique", !same_cn, "the CN is that of %s", where);
	}
	return 0;
}

int lint_cert(const struct lint_input *in)
{
	int r;

	if ((r = lint_names_and_time(in)) != 0 || (r = lint_serial(in->cert)) != 0 ||
	    (r = lint_extensions_unique(in->cert)) != 0 ||
	    (r = lint_basic_constraints(in->cert, in->profile)) != 0 ||
	    (r = lint_key_usage(in->cert, in->profile)) != 0 ||
	    (r = lint_eku(in->cert, in->profile)) != 0 || (r = lint_policies(in)) != 0 ||
	    (r = lint_key_ids(in)) != 0 || (r = lint_ca_name(in)) != 0)
		return r;
	LINT("cert-name-constraints-critical", in->profile->kind != PROFILE_CA || ext_critical(in->cert, NID_name_constraints) ||
		     ext_count(in->cert, NID_name_constraints) == 0,
	     "nameConstraints is not critical");
	LINT("cert-public-key", in->expected_key == NULL ||
		     EVP_PKEY_eq(X509_get0_pubkey(in->cert), in->expected_key) == 1,
	     "the certificate's public key is not the request's");
	return 0;
}

static int lint_path_with(X509 *cert, X509 *issuer, const struct profile *p,
			  char (*extra_policies)[PROFILE_OID_MAX], int n_extra, int at_issuance,
			  int (*setup)(X509_STORE_CTX *ctx, void *arg), void *arg)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *vp;
	int r = 0, n = p->n_policies + n_extra;

	if (store == NULL || ctx == NULL || !X509_STORE_add_cert(store, issuer) ||
	    !X509_STORE_CTX_init(ctx, store, cert, NULL)) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	if (setup != NULL && (r = setup(ctx, arg)) != 0)
		goto out;
	vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_X509_STRICT);
	X509_VERIFY_PARAM_set_purpose(vp, X509_PURPOSE_ANY);
	if (at_issuance)
		X509_VERIFY_PARAM_set_time(vp, time(NULL));
	else {
		/* A replay judges the certificate as of its issuance (its notBefore), so a
		 * since-expired end entity still replays. */
		struct tm tm;
		if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &tm) == 1)
			X509_VERIFY_PARAM_set_time(vp, timegm(&tm));
	}
	for (int i = 0; i < n; i++) {
		const char *oid = i < p->n_policies ? p->policies[i] : extra_policies[i - p->n_policies];
		ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
		if (o == NULL || !X509_VERIFY_PARAM_add0_policy(vp, o)) {
			ASN1_OBJECT_free(o);
			r = cer_err(CER_E_INPUT, "bad policy OID %s", oid);
			goto out;
		}
	}
	if (n > 0)
		X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_POLICY_CHECK | X509_V_FLAG_EXPLICIT_POLICY);
	if (X509_verify_cert(ctx) != 1)
		r = cer_err(CER_E_REFUSED, "lint cert-path: RFC 5280 path validation fails: %s",
			    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	ERR_clear_error();
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

int lint_path(X509 *cert, X509 *issuer, const struct profile *p,
	      char (*extra_policies)[PROFILE_OID_MAX], int n_extra, int at_issuance)
{
	return lint_path_with(cert, issuer, p, extra_policies, n_extra, at_issuance, NULL, NULL);
}

int lint_path_checked(X509 *cert, struct certsig_key *issuer_key, const struct profile *p,
		      char (*extra_policies)[PROFILE_OID_MAX], int n_extra)
{
	return lint_path_with(cert, certsig_key_issuer(issuer_key), p, extra_policies, n_extra, 0,
			      certsig_path_setup, issuer_key);
}

/* RFC 5280 5.3.1; "unspecified" is never written (the extension is left out instead). */
static const struct {
	const char *name;
	int code;
} crl_reasons[] = {
	{"keyCompromise", 1},	     {"cACompromise", 2},	{"affiliationChanged", 3},
	{"superseded", 4},	     {"cessationOfOperation", 5}, {"privilegeWithdrawn", 9},
};

int lint_crl_reason_code(const char *name)
{
	for (size_t i = 0; i < sizeof(crl_reasons) / sizeof(crl_reasons[0]); i++)
		if (strcmp(name, crl_reasons[i].name) == 0)
			return crl_reasons[i].code;
	return -1;
}

int lint_crl_entry_reason(X509_REVOKED *rev)
{
	int crit = -1;
	ASN1_ENUMERATED *code = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit, NULL);
	long v;

	if (code == NULL)
		return crit == -1 ? 0 : -1; /* crit -1: absent; -2: twice; else undecodable */
	v = ASN1_ENUMERATED_get(code);
	ASN1_ENUMERATED_free(code);
	return v < 0 || v > 10 ? -1 : (int)v;
}

static int lint_crl_entries(X509_CRL *crl)
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);

	for (int i = 0; i < sk_X509_REVOKED_num(revs); i++) {
		X509_REVOKED *rev = sk_X509_REVOKED_value(revs, i);
		const ASN1_INTEGER *serial = X509_REVOKED_get0_serialNumber(rev);
		BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
		int positive = bn != NULL && !BN_is_negative(bn) && !BN_is_zero(bn);
		int pos = X509_REVOKED_get_ext_by_NID(rev, NID_crl_reason, -1);
		int reason = lint_crl_entry_reason(rev);

		BN_free(bn);
		/* RFC 5280 4.1.2.2 (the serials a CA issues are positive). */
		LINT("crl-entry-serial", positive, "entry %d's serial is not positive", i + 1);
		for (int j = 0; j < i; j++)
			LINT("crl-entry-unique", ASN1_INTEGER_cmp(serial, X509_REVOKED_get0_serialNumber(
							      sk_X509_REVOKED_value(revs, j))) != 0,
			     "a serial is listed twice");
		/* RFC 5280 5.3.1: non-critical; unspecified (0) SHOULD be absent; BR 7.2.2:
		 * never certificateHold (6); removeFromCRL (8) only in delta CRLs. */
		LINT("crl-entry-reason", pos < 0 || !X509_EXTENSION_get_critical(X509_REVOKED_get_ext(rev, pos)),
		     "a reasonCode is critical");
		LINT("crl-entry-reason", reason >= 0 && reason != 7 && reason != 6 && reason != 8 &&
			     (pos < 0 || reason != 0),
		     "entry %d has reasonCode %d (unspecified, certificateHold, "
		     "removeFromCRL and unknown codes are not written)",
		     i + 1, reason);
	}
	return 0;
}

int lint_crl(X509_CRL *crl, X509 *issuer)
{
	const ASN1_OCTET_STRING *issuer_ski = X509_get0_subject_key_id(issuer);
	AUTHORITY_KEYID *akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
	ASN1_INTEGER *number = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	const ASN1_TIME *this_update = X509_CRL_get0_lastUpdate(crl);
	const ASN1_TIME *next_update = X509_CRL_get0_nextUpdate(crl);
	int aki_ok = akid != NULL && akid->keyid != NULL && issuer_ski != NULL &&
		     ASN1_OCTET_STRING_cmp(akid->keyid, issuer_ski) == 0;
	int number_ok = number != NULL && ASN1_INTEGER_get(number) > 0 &&
			ASN1_STRING_length(number) <= 20;
	int pos = X509_CRL_get_ext_by_NID(crl, NID_crl_number, -1), day = 0, sec = 0;

	AUTHORITY_KEYID_free(akid);
	ASN1_INTEGER_free(number);
	/* RFC 5280 5.1.2.1: v2 whenever extensions are present. */
	LINT("crl-version", X509_CRL_get_version(crl) == X509_CRL_VERSION_2, "not a v2 CRL");
	LINT("crl-issuer", X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) == 0,
	     "the CRL's issuer is not the issuer's subject");
	/* RFC 5280 5.2.1: AKI in every CRL; the key identifier method the certificates use. */
	LINT("crl-aki", aki_ok, "authorityKeyIdentifier is missing or not the issuer's SKI");
	/* RFC 5280 5.2.3: cRLNumber in every CRL, non-critical, at most 20 octets. */
	LINT("crl-number", number_ok && pos >= 0 && !X509_EXTENSION_get_critical(X509_CRL_get_ext(crl, pos)),
	     "cRLNumber is missing, critical, not positive or longer than 20 octets");
	/* RFC 5280 5.1.2.5 (nextUpdate present); BR 4.9.7: at most 12 months after thisUpdate. */
	LINT("crl-next-update", this_update != NULL && next_update != NULL &&
		     ASN1_TIME_diff(&day, &sec, this_update, next_update) &&
		     (day > 0 || (day == 0 && sec > 0)) &&
		     (day < CRL_LINT_MAX_DAYS || (day == CRL_LINT_MAX_DAYS && sec == 0)),
	     "nextUpdate is missing, not after thisUpdate or more than %d days "
	     "after it",
	     CRL_LINT_MAX_DAYS);
	return lint_crl_entries(crl);
}

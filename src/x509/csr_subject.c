/* csr_subject: the subject-* checks and profile-subject (docs/csr.md). */
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "ceremony/csr.h"
#include "ceremony/err.h"
#include "ceremony/subject.h"
#include "ceremony/textbuf.h"
#include "csr_int.h"

#define CSR_SUBJECT_MAX_ENTRIES 32

/* RFC 5280 Appendix A upper bounds, in characters. */
static const struct {
	int nid;
	int max;
} csr_ub[] = {
	{NID_commonName, 64},	      {NID_organizationName, 64}, {NID_organizationalUnitName, 64},
	{NID_serialNumber, 64},	      {NID_localityName, 128},	  {NID_stateOrProvinceName, 128},
	{NID_pkcs9_emailAddress, 255}, {NID_postalCode, 40},	  {NID_title, 64},
};

struct csr_subject_facts {
	int n_cn, n_o, n_c, n_serial;
};

static void csr_attr_name(const X509_NAME_ENTRY *e, char *buf, size_t size)
{
	const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
	int nid = OBJ_obj2nid(obj);

	/* A short name that does not fit is shown as its OID instead. */
	if (nid == NID_undef || text_format_cut(buf, size, "%s", OBJ_nid2sn(nid)) != 0)
		csr_oid_text(obj, buf, size);
}

/* Characters, not bytes: UTF-8 continuation bytes are not counted. */
static int csr_char_count(const ASN1_STRING *s)
{
	const unsigned char *d = ASN1_STRING_get0_data(s);
	int n = 0;

	for (int i = 0; i < ASN1_STRING_length(s); i++)
		if ((d[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static void csr_check_strings(const X509_NAME *name, struct csr_report *rep)
{
	char attr[CSR_OID_TEXT_MAX];

	for (int i = 0; i < X509_NAME_entry_count(name); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);
		int type = ASN1_STRING_type(v);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		const char *why;

		csr_attr_name(e, attr, sizeof(attr));
		/* research/profiles.md §5.9: PrintableString or UTF8String (email: IA5String). */
		if (type != V_ASN1_PRINTABLESTRING && type != V_ASN1_UTF8STRING &&
		    !(type == V_ASN1_IA5STRING && nid == NID_pkcs9_emailAddress)) {
			csr_verdict(rep, "subject-strings", 0,
				    "%s is a %s (PrintableString or UTF8String only)", attr,
				    ASN1_tag2str(type));
			return;
		}
		if ((why = subject_value_problem(v)) != NULL) {
			csr_verdict(rep, "subject-strings", 0, "%s %s", attr, why);
			return;
		}
	}
	csr_verdict(rep, "subject-strings", 1, "printable values");
}

static void csr_check_lengths(const X509_NAME *name, struct csr_report *rep)
{
	char attr[CSR_OID_TEXT_MAX];
	const unsigned char *der = NULL;
	size_t der_len = 0;

	if (X509_NAME_get0_der(name, &der, &der_len) <= 0 || der_len > CSR_SUBJECT_MAX_DER) {
		csr_verdict(rep, "subject-length", 0, "the subject is %zu bytes of DER (at most %d)",
			    der_len, CSR_SUBJECT_MAX_DER);
		return;
	}
	for (int i = 0; i < X509_NAME_entry_count(name); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		int n = csr_char_count(X509_NAME_ENTRY_get_data(e));

		for (size_t k = 0; k < sizeof(csr_ub) / sizeof(csr_ub[0]); k++) {
			if (csr_ub[k].nid == nid && n > csr_ub[k].max) {
				csr_attr_name(e, attr, sizeof(attr));
				csr_verdict(rep, "subject-length", 0,
					    "%s has %d characters (RFC 5280 upper bound %d)", attr, n,
					    csr_ub[k].max);
				return;
			}
		}
	}
	csr_verdict(rep, "subject-length", 1, "%zu bytes", der_len);
}

/* ISO 3166-1 alpha-2 as a PrintableString (RFC 5280 Appendix A; BR 7.1.4.2.2). */
static void csr_check_country(const X509_NAME *name, struct csr_report *rep)
{
	int seen = 0;

	for (int i = 0; i < X509_NAME_entry_count(name); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);
		const unsigned char *d = ASN1_STRING_get0_data(v);

		if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != NID_countryName)
			continue;
		seen = 1;
		if (ASN1_STRING_type(v) != V_ASN1_PRINTABLESTRING) {
			csr_verdict(rep, "subject-country", 0, "C is a %s, not a PrintableString",
				    ASN1_tag2str(ASN1_STRING_type(v)));
			return;
		}
		if (ASN1_STRING_length(v) != 2 || d[0] < 'A' || d[0] > 'Z' || d[1] < 'A' ||
		    d[1] > 'Z') {
			csr_verdict(rep, "subject-country", 0, "C must be two capital letters");
			return;
		}
	}
	csr_verdict(rep, "subject-country", 1, "%s", seen ? "two-letter PrintableString" : "none");
}

/* One value per RDN and each attribute type once (research/profiles.md §5.9). */
static void csr_check_attribute_set(const X509_NAME *name, struct csr_report *rep)
{
	char attr[CSR_OID_TEXT_MAX];
	int n = X509_NAME_entry_count(name);

	if (n > CSR_SUBJECT_MAX_ENTRIES) {
		csr_verdict(rep, "subject-attributes", 0, "%d attributes (at most %d)", n,
			    CSR_SUBJECT_MAX_ENTRIES);
		return;
	}
	for (int i = 0; i < n; i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);

		csr_attr_name(e, attr, sizeof(attr));
		if (i > 0 && X509_NAME_ENTRY_set(e) == X509_NAME_ENTRY_set(X509_NAME_get_entry(name, i - 1))) {
			csr_verdict(rep, "subject-attributes", 0, "multi-valued RDN (%s)", attr);
			return;
		}
		for (int j = 0; j < i; j++) {
			if (OBJ_cmp(X509_NAME_ENTRY_get_object(e),
				    X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name, j))) == 0) {
				csr_verdict(rep, "subject-attributes", 0, "%s appears twice", attr);
				return;
			}
		}
	}
	csr_verdict(rep, "subject-attributes", 1, "%d attributes, each once", n);
}

static void csr_subject_count(const X509_NAME *name, struct csr_subject_facts *f)
{
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < X509_NAME_entry_count(name); i++) {
		switch (OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name, i)))) {
		case NID_commonName: f->n_cn++; break;
		case NID_organizationName: f->n_o++; break;
		case NID_countryName: f->n_c++; break;
		case NID_serialNumber: f->n_serial++; break;
		default: break;
		}
	}
}

/*
 * Every profile kind here needs a CN: CAs by BR 7.1.4.3.1, the MASA signer by
 * research/profiles.md §2.3. Without a profile, at most one CN.
 */
static void csr_check_cn(const X509_NAME *name, const struct csr_subject_facts *f,
			 const struct csr_policy *policy, struct csr_report *rep)
{
	if (f->n_cn > 1)
		csr_verdict(rep, "subject-cn", 0, "%d CNs (exactly one allowed)", f->n_cn);
	else if (f->n_cn == 0 && policy->profile != NULL)
		csr_verdict(rep, "subject-cn", 0, "%s; profile %s needs a CN",
			    X509_NAME_entry_count(name) == 0 ? "the subject is empty"
							     : "the subject has no CN",
			    policy->profile->name);
	else
		csr_verdict(rep, "subject-cn", 1, "%s", f->n_cn ? "one CN" : "no CN");
}

static void csr_check_profile_subject(const struct profile *p, const struct csr_subject_facts *f,
				      struct csr_report *rep)
{
	if (p->kind == PROFILE_END_ENTITY) {
		/* research/profiles.md §2.3: a MASA subject must not look like a pledge's. */
		if (f->n_serial > 0)
			csr_verdict(rep, "profile-subject", 0,
				    "an end-entity (MASA) subject must not have serialNumber");
		else
			csr_verdict(rep, "profile-subject", 1, "no serialNumber");
		return;
	}
	/* BR 7.1.4.3.1: CA subjects carry CN, O and C. */
	if (f->n_cn == 0 || f->n_o == 0 || f->n_c == 0)
		csr_verdict(rep, "profile-subject", 0, "a CA subject needs CN, O and C (missing%s%s%s)",
			    f->n_cn ? "" : " CN", f->n_o ? "" : " O", f->n_c ? "" : " C");
	else
		csr_verdict(rep, "profile-subject", 1, "CN, O and C present");
}

/* The profile's subject rules (from_csr, required, forbidden, fixed) by the same
 * function issuance uses, so csr show --profile and cert sign cannot disagree. */
static void csr_check_profile_attributes(const struct profile *p, const X509_NAME *name,
					 struct csr_report *rep)
{
	X509_NAME *composed = NULL;
	int r = subject_compose(p, name, "request", &composed);

	X509_NAME_free(composed);
	if (r != 0)
		csr_verdict(rep, "profile-subject-attributes", 0, "%s", cer_err_msg(r));
	else
		csr_verdict(rep, "profile-subject-attributes", 1, "as the %s profile composes it",
			    p->name);
	cer_err_clear();
}

void csr_check_subject(const struct csr *c, const struct csr_policy *policy,
		       struct csr_report *rep)
{
	const X509_NAME *name = X509_REQ_get_subject_name(c->req);
	struct csr_subject_facts f;

	csr_subject_count(name, &f);
	csr_check_lengths(name, rep);
	csr_check_cn(name, &f, policy, rep);
	csr_check_attribute_set(name, rep);
	csr_check_strings(name, rep);
	csr_check_country(name, rep);
	if (policy->profile != NULL) {
		csr_check_profile_subject(policy->profile, &f, rep);
		csr_check_profile_attributes(policy->profile, name, rep);
	}
}

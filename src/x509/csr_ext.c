/*
 * csr_ext: checks on the extensions a request asks for. Requested extensions
 * are never copied into a certificate (BR 7.1.2.4; research/profiles.md §5.7):
 * the profile alone decides. A request that asks for more than the profile
 * grants is refused, never trimmed, so what the requester wanted and what
 * they get cannot silently differ.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ceremony/csr.h"
#include "ceremony/err.h"
#include "csr_int.h"

#define OID_ANY_POLICY "2.5.29.32.0"
#define OID_KP_SERVER_AUTH "1.3.6.1.5.5.7.3.1"
#define OID_KP_CMC_RA "1.3.6.1.5.5.7.3.28"

enum csr_ext_rule { EXT_BC, EXT_KU, EXT_EKU, EXT_POLICIES, EXT_SAN, EXT_FORBIDDEN, EXT_UNKNOWN };

static const struct {
	const char *oid;
	const char *name;
	enum csr_ext_rule rule;
} csr_ext_known[] = {
	{"2.5.29.19", "basicConstraints", EXT_BC},
	{"2.5.29.15", "keyUsage", EXT_KU},
	{"2.5.29.37", "extendedKeyUsage", EXT_EKU},
	{"2.5.29.32", "certificatePolicies", EXT_POLICIES},
	{"2.5.29.17", "subjectAltName", EXT_SAN},
	{"2.5.29.30", "nameConstraints", EXT_FORBIDDEN},
	{"2.5.29.35", "authorityKeyIdentifier", EXT_FORBIDDEN},
	{"2.5.29.14", "subjectKeyIdentifier", EXT_FORBIDDEN},
	{"2.5.29.31", "cRLDistributionPoints", EXT_FORBIDDEN},
	{"1.3.6.1.5.5.7.1.1", "authorityInfoAccess", EXT_FORBIDDEN},
	{"2.5.29.33", "policyMappings", EXT_FORBIDDEN},
	{"2.5.29.36", "policyConstraints", EXT_FORBIDDEN},
	{"2.5.29.54", "inhibitAnyPolicy", EXT_FORBIDDEN},
	{"1.3.6.1.5.5.7.1.32", "id-pe-masa-url", EXT_FORBIDDEN}, /* RFC 8995 2.3.2 */
};

#define N_KNOWN (sizeof(csr_ext_known) / sizeof(csr_ext_known[0]))

struct csr_ext_info {
	X509_EXTENSION *ext;
	char oid[CSR_OID_TEXT_MAX];
	const char *name; /* known name, or the dotted OID */
	enum csr_ext_rule rule;
};

static void csr_ext_info(X509_EXTENSION *ext, struct csr_ext_info *e)
{
	e->ext = ext;
	csr_oid_text(X509_EXTENSION_get_object(ext), e->oid, sizeof(e->oid));
	e->name = e->oid;
	e->rule = EXT_UNKNOWN;
	for (size_t k = 0; k < N_KNOWN; k++) {
		if (strcmp(csr_ext_known[k].oid, e->oid) == 0) {
			e->name = csr_ext_known[k].name;
			e->rule = csr_ext_known[k].rule;
		}
	}
}

#define FOR_EACH_EXT(c, e)                                                                      \
	for (int i_ = 0; i_ < sk_X509_EXTENSION_num((c)->exts) &&                               \
			 (csr_ext_info(sk_X509_EXTENSION_value((c)->exts, i_), &(e)), 1);         \
	     i_++)

/* RFC 5280 4.2: a certificate includes at most one instance of an extension. */
static void csr_check_unique(const struct csr *c, struct csr_report *rep)
{
	int n = sk_X509_EXTENSION_num(c->exts);

	for (int i = 0; i < n; i++) {
		const ASN1_OBJECT *a = X509_EXTENSION_get_object(sk_X509_EXTENSION_value(c->exts, i));
		for (int j = 0; j < i; j++) {
			if (OBJ_cmp(a, X509_EXTENSION_get_object(sk_X509_EXTENSION_value(c->exts, j))) ==
			    0) {
				struct csr_ext_info e;
				csr_ext_info(sk_X509_EXTENSION_value(c->exts, i), &e);
				csr_verdict(rep, "extensions-unique", 0, "%s is requested twice",
					    e.name);
				return;
			}
		}
	}
	csr_verdict(rep, "extensions-unique", 1, "%d requested", n);
}

/* RFC 5280 4.2: a critical extension we do not understand must not be accepted. */
static void csr_check_critical(const struct csr *c, struct csr_report *rep)
{
	struct csr_ext_info e;

	FOR_EACH_EXT(c, e)
	{
		if (e.rule == EXT_UNKNOWN && X509_EXTENSION_get_critical(e.ext)) {
			csr_verdict(rep, "extensions-critical", 0, "unknown critical extension %s",
				    e.oid);
			return;
		}
	}
	csr_verdict(rep, "extensions-critical", 1, "no unknown critical extension");
}

/* Each extension we know must decode and be DER (re-encoding gives the same bytes). */
static void csr_check_decode(const struct csr *c, struct csr_report *rep)
{
	struct csr_ext_info e;

	FOR_EACH_EXT(c, e)
	{
		const X509V3_EXT_METHOD *m = X509V3_EXT_get(e.ext);
		const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(e.ext);
		const unsigned char *p = ASN1_STRING_get0_data(v);
		ASN1_VALUE *val;
		unsigned char *re = NULL;
		int n, ok;

		if (e.rule == EXT_UNKNOWN || m == NULL || m->it == NULL)
			continue;
		val = ASN1_item_d2i(NULL, &p, ASN1_STRING_length(v), ASN1_ITEM_ptr(m->it));
		ok = val != NULL && p == ASN1_STRING_get0_data(v) + ASN1_STRING_length(v);
		if (ok) {
			n = ASN1_item_i2d(val, &re, ASN1_ITEM_ptr(m->it));
			ok = n == ASN1_STRING_length(v) && memcmp(re, ASN1_STRING_get0_data(v), n) == 0;
		}
		OPENSSL_free(re);
		ASN1_item_free(val, ASN1_ITEM_ptr(m->it));
		ERR_clear_error();
		if (!ok) {
			csr_verdict(rep, "extensions-decode", 0, "%s does not decode as DER", e.name);
			return;
		}
	}
	csr_verdict(rep, "extensions-decode", 1, "known extensions decode");
}

static void csr_check_bc(const struct csr *c, const struct profile *p, struct csr_report *rep)
{
	struct csr_ext_info e;

	FOR_EACH_EXT(c, e)
	{
		BASIC_CONSTRAINTS *bc;
		long pathlen;
		int ca;

		if (e.rule != EXT_BC)
			continue;
		if ((bc = X509V3_EXT_d2i(e.ext)) == NULL) {
			ERR_clear_error();
			csr_verdict(rep, "profile-basic-constraints", 0, "does not decode");
			return;
		}
		ca = bc->ca != 0;
		pathlen = bc->pathlen != NULL ? ASN1_INTEGER_get(bc->pathlen) : -1;
		BASIC_CONSTRAINTS_free(bc);
		if (ca && p->kind == PROFILE_END_ENTITY) {
			csr_verdict(rep, "profile-basic-constraints", 0,
				    "requests CA:TRUE on end-entity profile %s", p->name);
			return;
		}
		if (ca != p->ca) {
			csr_verdict(rep, "profile-basic-constraints", 0,
				    "requests CA:%s; profile %s has CA:%s", ca ? "TRUE" : "FALSE",
				    p->name, p->ca ? "TRUE" : "FALSE");
			return;
		}
		if (pathlen != -1 && pathlen != p->path_len) {
			csr_verdict(rep, "profile-basic-constraints", 0,
				    "requests pathLen %ld; profile %s has %s%ld", pathlen, p->name,
				    p->path_len < 0 ? "none" : "", p->path_len < 0 ? 0L : p->path_len);
			return;
		}
	}
	csr_verdict(rep, "profile-basic-constraints", 1, "nothing beyond the profile");
}

static void csr_check_ku(const struct csr *c, const struct profile *p, struct csr_report *rep)
{
	struct csr_ext_info e;

	FOR_EACH_EXT(c, e)
	{
		ASN1_BIT_STRING *ku;
		unsigned bits = 0;

		if (e.rule != EXT_KU)
			continue;
		if ((ku = X509V3_EXT_d2i(e.ext)) == NULL) {
			ERR_clear_error();
			csr_verdict(rep, "profile-key-usage", 0, "does not decode");
			return;
		}
		/* The KU_* values: first octet in the low byte, decipherOnly at 0x8000. */
		if (ASN1_STRING_length(ku) > 0)
			bits = ASN1_STRING_get0_data(ku)[0];
		if (ASN1_STRING_length(ku) > 1)
			bits |= (unsigned)ASN1_STRING_get0_data(ku)[1] << 8;
		ASN1_BIT_STRING_free(ku);
		if (bits & ~p->key_usage) {
			csr_verdict(rep, "profile-key-usage", 0,
				    "requests key usages (0x%04x) profile %s does not grant",
				    bits & ~p->key_usage, p->name);
			return;
		}
	}
	csr_verdict(rep, "profile-key-usage", 1, "nothing beyond the profile");
}

static int csr_oid_listed(const char *oid, const char (*list)[PROFILE_OID_MAX], int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(list[i], oid) == 0)
			return 1;
	return 0;
}

/* RFC 8995 5.5.4 / research/profiles.md §2.3: no registrar or TLS purpose on the MASA. */
static const char *csr_eku_problem(const char *oid, const struct profile *p)
{
	if (p->kind == PROFILE_END_ENTITY && strcmp(oid, OID_KP_CMC_RA) == 0)
		return "id-kp-cmcRA is never granted to an end-entity (MASA)";
	if (p->kind == PROFILE_END_ENTITY && strcmp(oid, OID_KP_SERVER_AUTH) == 0)
		return "serverAuth is never granted to an end-entity (MASA)";
	if (!csr_oid_listed(oid, p->eku, p->n_eku))
		return "not in the profile";
	return NULL;
}

static void csr_check_eku(const struct csr *c, const struct profile *p, struct csr_report *rep)
{
	struct csr_ext_info e;
	char oid[CSR_OID_TEXT_MAX];

	FOR_EACH_EXT(c, e)
	{
		EXTENDED_KEY_USAGE *eku;
		const char *why = NULL;

		if (e.rule != EXT_EKU)
			continue;
		if ((eku = X509V3_EXT_d2i(e.ext)) == NULL) {
			ERR_clear_error();
			csr_verdict(rep, "profile-eku", 0, "does not decode");
			return;
		}
		for (int k = 0; k < sk_ASN1_OBJECT_num(eku) && why == NULL; k++) {
			csr_oid_text(sk_ASN1_OBJECT_value(eku, k), oid, sizeof(oid));
			why = csr_eku_problem(oid, p);
		}
		sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
		if (why != NULL) {
			csr_verdict(rep, "profile-eku", 0, "requests %s: %s", oid, why);
			return;
		}
	}
	csr_verdict(rep, "profile-eku", 1, "nothing beyond the profile");
}

static void csr_check_policies(const struct csr *c, const struct profile *p,
			       struct csr_report *rep)
{
	struct csr_ext_info e;
	char oid[CSR_OID_TEXT_MAX];

	FOR_EACH_EXT(c, e)
	{
		CERTIFICATEPOLICIES *pol;
		const char *why = NULL;

		if (e.rule != EXT_POLICIES)
			continue;
		if ((pol = X509V3_EXT_d2i(e.ext)) == NULL) {
			ERR_clear_error();
			csr_verdict(rep, "profile-policies", 0, "does not decode");
			return;
		}
		for (int k = 0; k < sk_POLICYINFO_num(pol) && why == NULL; k++) {
			POLICYINFO *pi = sk_POLICYINFO_value(pol, k);
			csr_oid_text(pi->policyid, oid, sizeof(oid));
			/* research/profiles.md §2.2: never anyPolicy from a request. */
			if (strcmp(oid, OID_ANY_POLICY) == 0)
				why = "anyPolicy is never granted to a request";
			else if (!csr_oid_listed(oid, p->policies, p->n_policies) &&
				 !csr_oid_listed(oid, p->allowed_policies, p->n_allowed_policies))
				why = "not in the profile";
			/* issue 10.3: the profile writes no qualifiers; refused, never dropped. */
			else if (sk_POLICYQUALINFO_num(pi->qualifiers) > 0)
				why = "carries policy qualifiers (CPS URI or user notice), which are "
				      "never issued";
		}
		CERTIFICATEPOLICIES_free(pol);
		if (why != NULL) {
			csr_verdict(rep, "profile-policies", 0, "requests policy %s: %s", oid, why);
			return;
		}
	}
	csr_verdict(rep, "profile-policies", 1, "nothing beyond the profile");
}

/*
 * Profiles do not say yet whether they take a subjectAltName: CA and root
 * profiles refuse one (research/profiles.md §2.1-2.2), end-entity profiles
 * allow it.
 */
static void csr_check_rule(const struct csr *c, const struct profile *p, struct csr_report *rep,
			   enum csr_ext_rule rule, const char *check)
{
	struct csr_ext_info e;
	int allowed = 0;

	FOR_EACH_EXT(c, e)
	{
		if (e.rule != rule)
			continue;
		if (rule == EXT_SAN && p->kind == PROFILE_END_ENTITY && p->allow_san) {
			allowed = 1;
			continue;
		}
		if (rule == EXT_SAN)
			csr_verdict(rep, check, 0,
				    "subjectAltName is not allowed on %s profile %s "
				    "(subject_alt_name_from_csr)",
				    profile_kind_name(p->kind), p->name);
		else if (rule == EXT_FORBIDDEN)
			csr_verdict(rep, check, 0, "%s is never taken from a request", e.name);
		else
			csr_verdict(rep, check, 0, "extension %s has no place in profile %s", e.oid,
				    p->name);
		return;
	}
	csr_verdict(rep, check, 1, "%s",
		    allowed ? "allowed on end-entity profiles" : "none requested");
}

void csr_check_extensions(const struct csr *c, const struct csr_policy *policy,
			  struct csr_report *rep)
{
	const struct profile *p = policy->profile;

	csr_check_unique(c, rep);
	csr_check_critical(c, rep);
	csr_check_decode(c, rep);
	if (p == NULL)
		return;
	csr_check_bc(c, p, rep);
	csr_check_ku(c, p, rep);
	csr_check_eku(c, p, rep);
	csr_check_policies(c, p, rep);
	csr_check_rule(c, p, rep, EXT_SAN, "profile-san");
	csr_check_rule(c, p, rep, EXT_FORBIDDEN, "profile-forbidden-extensions");
	csr_check_rule(c, p, rep, EXT_UNKNOWN, "profile-unknown-extensions");
}

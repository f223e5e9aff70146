#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "ceremony/err.h"
#include "ceremony/profile.h"
#include "ceremony/yamljson.h"

static const struct {
	const char *name;
	unsigned bit;
} ku_names[] = {
	{"digitalSignature", KU_DIGITAL_SIGNATURE}, {"nonRepudiation", KU_NON_REPUDIATION},
	{"keyEncipherment", KU_KEY_ENCIPHERMENT},   {"dataEncipherment", KU_DATA_ENCIPHERMENT},
	{"keyAgreement", KU_KEY_AGREEMENT},	    {"keyCertSign", KU_KEY_CERT_SIGN},
	{"cRLSign", KU_CRL_SIGN},
};

const char *profile_kind_name(enum profile_kind k)
{
	return k == PROFILE_ROOT ? "root" : k == PROFILE_CA ? "ca" : "end-entity";
}

static int prof_err(const struct profile *p, const char *key, const char *why)
{
	return cer_err(CER_E_INPUT, "%s: %s: %s", p->path, key, why);
}

static int prof_string(const struct profile *p, json_t *v, const char *key, const char **out)
{
	*out = json_string_value(v);
	if (*out == NULL)
		return prof_err(p, key, "must be a single value");
	return 0;
}

static int prof_bool(const struct profile *p, json_t *v, const char *key, int *out)
{
	const char *s;
	int r;

	if ((r = prof_string(p, v, key, &s)) != 0)
		return r;
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
		*out = 1;
	else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
		*out = 0;
	else
		return prof_err(p, key, "must be true or false");
	return 0;
}

static int prof_long(const struct profile *p, json_t *v, const char *key, long min, long max,
		     long *out)
{
	const char *s;
	char *end;
	long n;
	int r;

	if ((r = prof_string(p, v, key, &s)) != 0)
		return r;
	n = strtol(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || n < min || n > max)
		return cer_err(CER_E_INPUT, "%s: %s: \"%s\" is not a whole number from %ld to %ld",
			       p->path, key, s, min, max);
	*out = n;
	return 0;
}

static int prof_oids(const struct profile *p, json_t *v, const char *key,
		     char (*oids)[PROFILE_OID_MAX], int *n)
{
	json_t *item;
	size_t i;

	if (!json_is_array(v))
		return prof_err(p, key, "must be a list of OIDs");
	if (json_array_size(v) > PROFILE_MAX_OIDS)
		return prof_err(p, key, "too many OIDs");
	*n = 0;
	json_array_foreach(v, i, item)
	{
		const char *s = json_string_value(item);
		ASN1_OBJECT *obj;

		if (s == NULL || strlen(s) >= PROFILE_OID_MAX)
			return prof_err(p, key, "each entry must be a dotted OID");
		obj = OBJ_txt2obj(s, 1);
		if (obj == NULL) {
			/* a few names are accepted for EKUs: serverAuth, clientAuth, ... */
			obj = OBJ_txt2obj(s, 0);
		}
		if (obj == NULL)
			return cer_err(CER_E_INPUT, "%s: %s: \"%s\" is not an OID", p->path, key, s);
		if (OBJ_obj2txt(oids[*n], PROFILE_OID_MAX, obj, 1) <= 0) {
			ASN1_OBJECT_free(obj);
			return prof_err(p, key, "OID too long");
		}
		ASN1_OBJECT_free(obj);
		for (int j = 0; j < *n; j++)
			if (strcmp(oids[j], oids[*n]) == 0)
				return cer_err(CER_E_INPUT, "%s: %s: %s is listed twice", p->path, key,
					       oids[j]);
		(*n)++;
	}
	return 0;
}

/* RFC 5280 4.1.2.5: GeneralizedTime YYYYMMDDHHMMSSZ; 99991231235959Z means no expiry. */
static int prof_not_after(const struct profile *p, json_t *v, const char *key)
{
	const char *s;
	ASN1_GENERALIZEDTIME *t;
	int r;

	if ((r = prof_string(p, v, key, &s)) != 0)
		return r;
	if (strlen(s) != 15 || s[14] != 'Z')
		return prof_err(p, key, "must be GeneralizedTime YYYYMMDDHHMMSSZ");
	for (int i = 0; i < 14; i++)
		if (!isdigit((unsigned char)s[i]))
			return prof_err(p, key, "must be GeneralizedTime YYYYMMDDHHMMSSZ");
	t = ASN1_GENERALIZEDTIME_new();
	if (t == NULL || !ASN1_GENERALIZEDTIME_set_string(t, s) || !ASN1_TIME_check(t)) {
		ASN1_GENERALIZEDTIME_free(t);
		return prof_err(p, key, "is not a valid date");
	}
	ASN1_GENERALIZEDTIME_free(t);
	memcpy(((struct profile *)p)->not_after, s, 16);
	return 0;
}

static int prof_validity(struct profile *p, json_t *v)
{
	const char *k;
	json_t *item;
	int r;

	if (!json_is_object(v))
		return prof_err(p, "validity", "must have days or not_after");
	json_object_foreach(v, k, item)
	{
		if (strcmp(k, "days") == 0)
			r = prof_long(p, item, "validity.days", 1, PROFILE_MAX_DAYS,
				      &p->validity_days);
		else if (strcmp(k, "not_after") == 0)
			r = prof_not_after(p, item, "validity.not_after");
		else if (strcmp(k, "beyond_issuer") == 0)
			r = prof_bool(p, item, "validity.beyond_issuer", &p->validity_beyond_issuer);
		else
			r = cer_err(CER_E_INPUT, "%s: validity.%s: unknown setting", p->path, k);
		if (r != 0)
			return r;
	}
	if ((p->validity_days > 0) == (p->not_after[0] != '\0'))
		return prof_err(p, "validity", "give exactly one of days or not_after");
	return 0;
}

static int prof_basic_constraints(struct profile *p, json_t *v)
{
	const char *k;
	json_t *item;
	int r, have_ca = 0;

	if (!json_is_object(v))
		return prof_err(p, "basic_constraints", "must have ca (and path_len)");
	json_object_foreach(v, k, item)
	{
		if (strcmp(k, "ca") == 0) {
			r = prof_bool(p, item, "basic_constraints.ca", &p->ca);
			have_ca = 1;
		} else if (strcmp(k, "path_len") == 0) {
			const char *s = json_string_value(item);
			r = s != NULL && strcmp(s, "none") == 0
				    ? (p->path_len = -1, 0)
				    : prof_long(p, item, "basic_constraints.path_len", 0, 16,
						&p->path_len);
		} else
			r = cer_err(CER_E_INPUT, "%s: basic_constraints.%s: unknown setting", p->path,
				    k);
		if (r != 0)
			return r;
	}
	if (!have_ca)
		return prof_err(p, "basic_constraints.ca", "is required");
	return 0;
}

static int prof_key_usage(struct profile *p, json_t *v)
{
	json_t *item;
	size_t i;

	if (!json_is_array(v))
		return prof_err(p, "key_usage", "must be a list");
	p->key_usage = 0;
	json_array_foreach(v, i, item)
	{
		const char *s = json_string_value(item);
		size_t k;
		for (k = 0; s != NULL && k < sizeof(ku_names) / sizeof(ku_names[0]); k++)
			if (strcmp(s, ku_names[k].name) == 0)
				break;
		if (s == NULL || k == sizeof(ku_names) / sizeof(ku_names[0]))
			return cer_err(CER_E_INPUT, "%s: key_usage: unknown usage \"%s\"", p->path,
				       s != NULL ? s : "?");
		p->key_usage |= ku_names[k].bit;
	}
	return 0;
}

static int prof_key_types(struct profile *p, json_t *v)
{
	json_t *item;
	size_t i;
	enum key_type t;
	int r;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return prof_err(p, "key_types", "must be a list of key types");
	json_array_foreach(v, i, item)
	{
		const char *s = json_string_value(item);
		if (s == NULL)
			return prof_err(p, "key_types", "must be a list of key types");
		if ((r = key_type_parse(s, &t)) != 0) {
			cer_err_prefix("%s: key_types: ", p->path);
			return r;
		}
		p->key_types |= 1u << t;
	}
	return 0;
}

/* A list of strings into fixed slots; check(s) may refuse an entry. */
static int prof_strings(const struct profile *p, json_t *v, const char *key, int max, size_t width,
			char *slots, int *n, int (*check)(const char *))
{
	json_t *item;
	size_t i;

	if (!json_is_array(v))
		return prof_err(p, key, "must be a list");
	if ((int)json_array_size(v) > max)
		return prof_err(p, key, "too many entries");
	*n = 0;
	json_array_foreach(v, i, item)
	{
		const char *s = json_string_value(item);
		if (s == NULL || s[0] == '\0' || strlen(s) >= width)
			return prof_err(p, key, "each entry must be a non-empty value of sensible length");
		if (check != NULL && check(s) != 0)
			return cer_err(CER_E_INPUT, "%s: %s: \"%s\" is not allowed here", p->path, key, s);
		memcpy(slots + (size_t)*n * width, s, strlen(s) + 1);
		(*n)++;
	}
	return 0;
}

static int check_uri(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ||
			       strncmp(s, "ldap://", 7) == 0
		       ? 0
		       : -1;
}

static int check_attr(const char *s)
{
	return OBJ_txt2nid(s) != NID_undef ? 0 : -1;
}

static int check_name_constraint(const char *s)
{
	return strncmp(s, "DNS:", 4) == 0 || strncmp(s, "email:", 6) == 0 ||
			       strncmp(s, "URI:", 4) == 0
		       ? 0
		       : -1;
}

static int prof_aia(struct profile *p, json_t *v)
{
	const char *k;
	json_t *item;
	int r;

	if (!json_is_object(v))
		return prof_err(p, "authority_info_access", "must have ca_issuers and/or ocsp");
	json_object_foreach(v, k, item)
	{
		if (strcmp(k, "ca_issuers") == 0)
			r = prof_strings(p, item, "authority_info_access.ca_issuers", PROFILE_MAX_URIS,
					 PROFILE_URI_MAX, &p->aia_ca_issuers[0][0],
					 &p->n_aia_ca_issuers, check_uri);
		else if (strcmp(k, "ocsp") == 0)
			r = prof_strings(p, item, "authority_info_access.ocsp", PROFILE_MAX_URIS,
					 PROFILE_URI_MAX, &p->aia_ocsp[0][0], &p->n_aia_ocsp, check_uri);
		else
			r = cer_err(CER_E_INPUT, "%s: authority_info_access.%s: unknown setting",
				    p->path, k);
		if (r != 0)
			return r;
	}
	return 0;
}

static int prof_name_constraints(struct profile *p, json_t *v)
{
	const char *k;
	json_t *item;
	int r;

	if (!json_is_object(v))
		return prof_err(p, "name_constraints", "must have permitted and/or excluded");
	json_object_foreach(v, k, item)
	{
		if (strcmp(k, "permitted") == 0)
			r = prof_strings(p, item, "name_constraints.permitted", PROFILE_MAX_URIS,
					 PROFILE_URI_MAX, &p->nc_permitted[0][0], &p->n_nc_permitted,
					 check_name_constraint);
		else if (strcmp(k, "excluded") == 0)
			r = prof_strings(p, item, "name_constraints.excluded", PROFILE_MAX_URIS,
					 PROFILE_URI_MAX, &p->nc_excluded[0][0], &p->n_nc_excluded,
					 check_name_constraint);
		else
			r = cer_err(CER_E_INPUT, "%s: name_constraints.%s: unknown setting", p->path,
				    k);
		if (r != 0)
			return r;
	}
	return 0;
}

static int prof_subject(struct profile *p, json_t *v)
{
	const char *k, *fk;
	json_t *item, *fv;
	int r;

	if (!json_is_object(v))
		return prof_err(p, "subject", "must have from_csr, required, forbidden or fixed");
	json_object_foreach(v, k, item)
	{
		if (strcmp(k, "from_csr") == 0)
			r = prof_strings(p, item, "subject.from_csr", PROFILE_MAX_ATTRS,
					 PROFILE_ATTR_MAX, &p->subject_from_csr[0][0],
					 &p->n_subject_from_csr, check_attr);
		else if (strcmp(k, "required") == 0)
			r = prof_strings(p, item, "subject.required", PROFILE_MAX_ATTRS,
					 PROFILE_ATTR_MAX, &p->subject_required[0][0],
					 &p->n_subject_required, check_attr);
		else if (strcmp(k, "forbidden") == 0)
			r = prof_strings(p, item, "subject.forbidden", PROFILE_MAX_ATTRS,
					 PROFILE_ATTR_MAX, &p->subject_forbidden[0][0],
					 &p->n_subject_forbidden, check_attr);
		else if (strcmp(k, "fixed") == 0) {
			r = 0;
			if (!json_is_object(item))
				return prof_err(p, "subject.fixed", "must map attributes to values");
			json_object_foreach(item, fk, fv)
			{
				const char *val = json_string_value(fv);
				int i = p->n_subject_fixed;
				if (i == PROFILE_MAX_ATTRS || check_attr(fk) != 0 || val == NULL ||
				    strlen(fk) >= PROFILE_ATTR_MAX || strlen(val) >= PROFILE_VALUE_MAX ||
				    val[0] == '\0')
					return cer_err(CER_E_INPUT, "%s: subject.fixed.%s: bad attribute or value",
						       p->path, fk);
				memcpy(p->subject_fixed_type[i], fk, strlen(fk) + 1);
				memcpy(p->subject_fixed_value[i], val, strlen(val) + 1);
				p->n_subject_fixed++;
			}
		} else
			r = cer_err(CER_E_INPUT, "%s: subject.%s: unknown setting", p->path, k);
		if (r != 0)
			return r;
	}
	return 0;
}

static int prof_field(struct profile *p, const char *k, json_t *v)
{
	const char *s;
	int r;

	if (strcmp(k, "name") == 0) {
		if ((r = prof_string(p, v, k, &s)) != 0)
			return r;
		if (strlen(s) >= sizeof(p->name))
			return prof_err(p, k, "too long");
		memcpy(p->name, s, strlen(s) + 1);
		return 0;
	}
	if (strcmp(k, "kind") == 0) {
		if ((r = prof_string(p, v, k, &s)) != 0)
			return r;
		if (strcmp(s, "root") == 0)
			p->kind = PROFILE_ROOT;
		else if (strcmp(s, "ca") == 0)
			p->kind = PROFILE_CA;
		else if (strcmp(s, "end-entity") == 0)
			p->kind = PROFILE_END_ENTITY;
		else
			return prof_err(p, k, "must be root, ca or end-entity");
		return 0;
	}
	if (strcmp(k, "key_types") == 0)
		return prof_key_types(p, v);
	if (strcmp(k, "validity") == 0)
		return prof_validity(p, v);
	if (strcmp(k, "basic_constraints") == 0)
		return prof_basic_constraints(p, v);
	if (strcmp(k, "key_usage") == 0)
		return prof_key_usage(p, v);
	if (strcmp(k, "extended_key_usage") == 0)
		return prof_oids(p, v, k, p->eku, &p->n_eku);
	if (strcmp(k, "certificate_policies") == 0)
		return prof_oids(p, v, k, p->policies, &p->n_policies);
	if (strcmp(k, "allowed_policies") == 0)
		return prof_oids(p, v, k, p->allowed_policies, &p->n_allowed_policies);
	if (strcmp(k, "voucher_policies") == 0)
		return prof_oids(p, v, k, p->voucher_policies, &p->n_voucher_policies);
	if (strcmp(k, "voucher_signer") == 0)
		return prof_bool(p, v, k, &p->voucher_signer);
	if (strcmp(k, "authority_key_identifier") == 0)
		return prof_bool(p, v, k, &p->aki);
	if (strcmp(k, "certificate_policies_required") == 0)
		return prof_bool(p, v, k, &p->policies_required);
	if (strcmp(k, "requests_pinned") == 0)
		return prof_bool(p, v, k, &p->requests_pinned);
	if (strcmp(k, "crl_distribution_points") == 0)
		return prof_strings(p, v, k, PROFILE_MAX_URIS, PROFILE_URI_MAX, &p->crldp[0][0],
				    &p->n_crldp, check_uri);
	if (strcmp(k, "authority_info_access") == 0)
		return prof_aia(p, v);
	if (strcmp(k, "name_constraints") == 0)
		return prof_name_constraints(p, v);
	if (strcmp(k, "subject") == 0)
		return prof_subject(p, v);
	if (strcmp(k, "subject_alt_name_from_csr") == 0)
		return prof_bool(p, v, k, &p->allow_san);
	if (strcmp(k, "subject_key_identifier") == 0) {
		if ((r = prof_string(p, v, k, &s)) != 0)
			return r;
		if (strcmp(s, "sha1") == 0)
			p->ski = PROFILE_SKI_SHA1;
		else if (strcmp(s, "sha256-truncated") == 0)
			p->ski = PROFILE_SKI_SHA256_TRUNC;
		else if (strcmp(s, "none") == 0)
			p->ski = PROFILE_SKI_NONE;
		else
			return prof_err(p, k, "must be sha1, sha256-truncated or none");
		return 0;
	}
	return cer_err(CER_E_INPUT, "%s: %s: unknown setting", p->path, k);
}

#define ANY_POLICY "2.5.29.32.0"

int profile_oid_listed(const char *oid, const char (*list)[PROFILE_OID_MAX], int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(oid, list[i]) == 0)
			return 1;
	return 0;
}

/*
 * Policy discipline (issue 10.3): anyPolicy never on an end entity and only
 * where a profile names it; the voucher-authorization OIDs only in the voucher
 * signer's profile, which carries one (draft-richardson-anima-masa-considerations
 * 3.3: a pledge tells a MASA's signature from any IDevID's by that OID alone).
 */
static int prof_policies_consistent(struct profile *p)
{
	const char *lists[2] = {"certificate_policies", "allowed_policies"};
	char (*oids[2])[PROFILE_OID_MAX] = {p->policies, p->allowed_policies};
	int n[2] = {p->n_policies, p->n_allowed_policies}, carries_voucher = 0;

	if (p->voucher_signer && p->kind != PROFILE_END_ENTITY)
		return prof_err(p, "voucher_signer", "only an end-entity profile signs vouchers");
	if (p->voucher_signer && p->n_voucher_policies == 0)
		return prof_err(p, "voucher_policies", "the voucher signer's profile names its OIDs");
	for (int l = 0; l < 2; l++)
		for (int i = 0; i < n[l]; i++) {
			if (strcmp(oids[l][i], ANY_POLICY) == 0 && p->kind == PROFILE_END_ENTITY)
				return prof_err(p, lists[l], "anyPolicy is not for end entities");
			if (profile_oid_listed(oids[l][i], (const char(*)[PROFILE_OID_MAX])p->voucher_policies,
					       p->n_voucher_policies)) {
				if (!p->voucher_signer)
					return cer_err(CER_E_INPUT,
						       "%s: %s: %s is a voucher-authorization OID: only a "
						       "profile with voucher_signer: true carries it",
						       p->path, lists[l], oids[l][i]);
				carries_voucher |= l == 0;
			}
		}
	for (int i = 0; i < p->n_allowed_policies; i++)
		if (profile_oid_listed(p->allowed_policies[i], (const char(*)[PROFILE_OID_MAX])p->policies,
				       p->n_policies))
			return cer_err(CER_E_INPUT, "%s: allowed_policies: %s is already carried",
				       p->path, p->allowed_policies[i]);
	if (p->voucher_signer && !carries_voucher)
		return prof_err(p, "certificate_policies",
				 "the voucher signer's profile carries one of its voucher_policies");
	if (p->validity_beyond_issuer && p->kind == PROFILE_ROOT)
		return prof_err(p, "validity.beyond_issuer", "a root has no issuer to outlive");
	return 0;
}

int profile_check_extra_policy(const struct profile *p, const char *oid)
{
	if (profile_oid_listed(oid, (const char(*)[PROFILE_OID_MAX])p->allowed_policies,
			       p->n_allowed_policies))
		return 0;
	if (profile_oid_listed(oid, (const char(*)[PROFILE_OID_MAX])p->voucher_policies,
			       p->n_voucher_policies))
		return cer_err(CER_E_REFUSED,
			       "--policy %s is a voucher-authorization OID: only the voucher signer's "
			       "profile carries it",
			       oid);
	if (strcmp(oid, ANY_POLICY) == 0)
		return cer_err(CER_E_REFUSED,
			       "--policy anyPolicy (2.5.29.32.0): the %s profile does not name it in "
			       "allowed_policies",
			       p->name);
	return cer_err(CER_E_REFUSED,
		       "--policy %s is not one the %s profile allows (allowed_policies: %d listed)",
		       oid, p->name, p->n_allowed_policies);
}

/* Rules that hold whatever the file says (RFC 5280 4.2.1.3, 4.2.1.9; BR 7.1.2.1). */
static int prof_consistent(struct profile *p)
{
	if (p->name[0] == '\0')
		return prof_err(p, "name", "is required");
	if (p->key_types == 0)
		return prof_err(p, "key_types", "is required");
	if (p->validity_days == 0 && p->not_after[0] == '\0')
		return prof_err(p, "validity", "is required");
	if ((p->key_usage & KU_KEY_CERT_SIGN) && !p->ca)
		return prof_err(p, "key_usage", "keyCertSign needs basic_constraints.ca true");
	if (p->kind != PROFILE_END_ENTITY && (!p->ca || !(p->key_usage & KU_KEY_CERT_SIGN)))
		return prof_err(p, "kind", "a CA profile needs ca true and keyCertSign");
	if (p->kind == PROFILE_END_ENTITY && p->ca)
		return prof_err(p, "basic_constraints.ca", "an end-entity profile cannot be a CA");
	if (p->kind == PROFILE_END_ENTITY && p->path_len >= 0)
		return prof_err(p, "basic_constraints.path_len", "only CA profiles have a pathLen");
	if (p->kind == PROFILE_ROOT && p->aki)
		return prof_err(p, "authority_key_identifier", "a self-signed root has none here");
	if (p->key_usage == 0)
		return prof_err(p, "key_usage", "is required");
	/* Nothing is taken from a request unless the profile says so. */
	if (p->kind != PROFILE_ROOT && p->n_subject_from_csr == 0)
		return prof_err(p, "subject.from_csr", "is required: which attributes come from the CSR");
	if (p->kind != PROFILE_CA && (p->n_nc_permitted > 0 || p->n_nc_excluded > 0))
		return prof_err(p, "name_constraints", "only for intermediate CA profiles");
	if (p->kind != PROFILE_END_ENTITY && p->allow_san)
		return prof_err(p, "subject_alt_name_from_csr", "only for end-entity profiles");
	return prof_policies_consistent(p);
}

int profile_load(const char *path, struct profile *out)
{
	json_t *doc = NULL, *v;
	const char *k;
	int r;

	memset(out, 0, sizeof(*out));
	out->path_len = -1;
	if (snprintf(out->path, sizeof(out->path), "%s", path) >= (int)sizeof(out->path))
		return cer_err(CER_E_INPUT, "profile path too long");
	if ((r = yamljson_load(path, PROFILE_MAX_BYTES, &doc)) != 0)
		return r;
	if (!json_is_object(doc)) {
		r = cer_err(CER_E_INPUT, "%s: a profile is a mapping of settings", path);
		goto out;
	}
	json_object_foreach(doc, k, v)
	{
		if ((r = prof_field(out, k, v)) != 0)
			goto out;
	}
	r = prof_consistent(out);
out:
	json_decref(doc);
	return r;
}

int profile_check_key_type(const struct profile *p, enum key_type t)
{
	if (p->key_types & (1u << t))
		return 0;
	return cer_err(CER_E_REFUSED, "%s: the %s profile does not allow %s keys", p->path, p->name,
		       key_type_name(t));
}

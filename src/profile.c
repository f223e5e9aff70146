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
	if (strcmp(k, "authority_key_identifier") == 0)
		return prof_bool(p, v, k, &p->aki);
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
	return 0;
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

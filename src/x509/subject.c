/* subject: a certificate's subject from a profile and a request. Owns the rule
 * "fixed attributes first, then only what the profile takes from the request";
 * issuance and replay both call it, so they cannot drift. Does not own checks
 * of the request itself (csr) or the lints (lint). */
#include <string.h>

#include <openssl/x509.h>

#include "ceremony/err.h"
#include "ceremony/subject.h"


static int attr_listed(const char *sn, const char (*list)[PROFILE_ATTR_MAX], int n)
{
	int nid = OBJ_txt2nid(sn);
	for (int i = 0; i < n; i++)
		if (OBJ_txt2nid(list[i]) == nid)
			return 1;
	return 0;
}

static const char *fixed_value(const struct profile *p, int nid)
{
	for (int i = 0; i < p->n_subject_fixed; i++)
		if (OBJ_txt2nid(p->subject_fixed_type[i]) == nid)
			return p->subject_fixed_value[i];
	return NULL;
}

int subject_compose(const struct profile *p, const X509_NAME *requested, const char *name,
		    X509_NAME **out)
{
	X509_NAME *subject = X509_NAME_new();
	int r = 0;

	*out = NULL;
	if (subject == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	/* Fixed attributes first, as the profile gives them. */
	for (int i = 0; i < p->n_subject_fixed; i++)
		if (!X509_NAME_add_entry_by_txt(subject, p->subject_fixed_type[i], MBSTRING_UTF8,
						(const unsigned char *)p->subject_fixed_value[i], -1,
						-1, 0)) {
			r = cer_err_ssl(CER_E_INPUT, "%s: cannot use fixed %s", p->path,
					p->subject_fixed_type[i]);
			goto out;
		}
	for (int i = 0; i < X509_NAME_entry_count(requested); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(requested, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		const char *sn = OBJ_nid2sn(nid), *fixed = fixed_value(p, nid);
		unsigned char *utf8 = NULL;
		int len;

		if (attr_listed(sn, p->subject_forbidden, p->n_subject_forbidden)) {
			r = cer_err(CER_E_REFUSED, "%s: refused: the %s profile forbids %s in the subject",
				    name, p->name, sn);
			goto out;
		}
		if (fixed != NULL) {
			len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
			int same = len >= 0 && strlen(fixed) == (size_t)len &&
				   memcmp(utf8, fixed, (size_t)len) == 0;
			OPENSSL_free(utf8);
			if (!same) {
				r = cer_err(CER_E_REFUSED,
					    "%s: refused: subject %s differs from the profile's fixed "
					    "value \"%s\"",
					    name, sn, fixed);
				goto out;
			}
			continue; /* already there */
		}
		if (!attr_listed(sn, p->subject_from_csr, p->n_subject_from_csr)) {
			r = cer_err(CER_E_REFUSED,
				    "%s: refused: the %s profile does not take %s from the request",
				    name, p->name, sn);
			goto out;
		}
		if (!X509_NAME_add_entry(subject, e, -1, 0)) {
			r = cer_err_ssl(CER_E_CRYPTO, "cannot copy the subject");
			goto out;
		}
	}
	for (int i = 0; i < p->n_subject_required; i++)
		if (X509_NAME_get_index_by_NID(subject, OBJ_txt2nid(p->subject_required[i]), -1) < 0) {
			r = cer_err(CER_E_REFUSED, "%s: refused: the %s profile requires %s in the subject",
				    name, p->name, p->subject_required[i]);
			goto out;
		}
	if (X509_NAME_entry_count(subject) == 0) {
		r = cer_err(CER_E_REFUSED, "%s: refused: the subject would be empty", name);
		goto out;
	}
	*out = subject;
	subject = NULL;
out:
	X509_NAME_free(subject);
	return r;
}

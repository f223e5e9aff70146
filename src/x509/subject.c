/* subject: a certificate's subject from a profile and a request. Owns the rule
 * "fixed attributes first, then only what the profile takes from the request";
 * issuance and replay both call it, so they cannot drift. Does not own checks
 * of the request itself (csr) or the lints (lint). */
#include <string.h>

#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <utf8proc.h>

#include "ceremony/err.h"
#include "ceremony/subject.h"

/* X.680 41.4: the PrintableString alphabet. */
static int printable_char(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       strchr(" '()+,-./:=?", ch) != NULL;
}

/*
 * Code points a subject never holds: controls (C0, DEL, C1: BR 7.1.4.2) and
 * Unicode format characters (category Cf: the bidi embeddings and overrides
 * U+202A-202E and isolates U+2066-2069, zero-width U+200B-200D, the BOM
 * U+FEFF, soft hyphen, ...), which make two different names look the same.
 */
static const char *utf8_problem(const unsigned char *utf8, int n)
{
	utf8proc_int32_t cp;
	int meta_only = 1, prev_space = 0;

	for (utf8proc_ssize_t i = 0, step; i < n; i += step) {
		step = utf8proc_iterate(utf8 + i, n - i, &cp);
		if (step <= 0)
			return "is not valid UTF-8";
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
			return "has a control or NUL character";
		if (utf8proc_category(cp) == UTF8PROC_CATEGORY_CF || cp == 0x200B)
			return "has an invisible Unicode format character (bidi control, zero-width or "
			       "BOM)";
		/* zlint e_subject_dn_leading_whitespace / trailing_whitespace; pkilint
		 * DoubleWhitespaceValidator-like: one meaning, one spelling. */
		if (cp == ' ' && (i == 0 || i + step == n))
			return "has a leading or trailing space";
		if (cp == ' ' && prev_space)
			return "has two spaces in a row";
		prev_space = cp == ' ';
		if (cp > 0x7f || strchr(" .-_", (int)cp) == NULL)
			meta_only = 0;
	}
	/* BR 7.1.4.2: no values made only of metadata such as ".", "-", " ". */
	return meta_only ? "holds only punctuation or spaces" : NULL;
}

/* Unicode Normalization Form C (RFC 5280 7.1 compares names after it; RFC 4518). */
static const char *nfc_problem(const unsigned char *utf8, int n)
{
	unsigned char *copy = malloc((size_t)n + 1), *nfc;
	const char *why = NULL;

	if (copy == NULL)
		return "cannot be checked (out of memory)";
	memcpy(copy, utf8, (size_t)n);
	copy[n] = '\0';
	nfc = utf8proc_NFC(copy);
	if (nfc == NULL || strcmp((const char *)nfc, (const char *)copy) != 0)
		why = "is not in Unicode Normalization Form C";
	free(nfc);
	free(copy);
	return why;
}

const char *subject_value_problem(const ASN1_STRING *s)
{
	const unsigned char *d = ASN1_STRING_get0_data(s);
	int len = ASN1_STRING_length(s), n;
	unsigned char *utf8 = NULL;
	const char *why;

	if (len == 0)
		return "is empty";
	if (ASN1_STRING_type(s) == V_ASN1_PRINTABLESTRING)
		for (int i = 0; i < len; i++)
			if (d[i] == '\0' || !printable_char(d[i]))
				return "has a character PrintableString does not allow";
	n = ASN1_STRING_to_UTF8(&utf8, s);
	if (n < 0) {
		ERR_clear_error();
		return "is not valid UTF-8";
	}
	if ((why = utf8_problem(utf8, n)) == NULL)
		why = nfc_problem(utf8, n);
	OPENSSL_free(utf8);
	return why;
}


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

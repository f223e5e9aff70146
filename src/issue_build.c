/* issue: subject composition, shadow issuer, and the throwaway-signed lint. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony/err.h"
#include "ceremony/lint.h"
#include "issue_int.h"

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

int issue_subject(const struct profile *p, const X509_NAME *requested, const char *name,
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

const EVP_MD *issue_digest_for(EVP_PKEY *issuer_key)
{
	char group[32] = "";
	size_t len = 0;

	if (EVP_PKEY_is_a(issuer_key, "EC") &&
	    EVP_PKEY_get_utf8_string_param(issuer_key, "group", group, sizeof(group), &len) &&
	    strcmp(group, "secp384r1") == 0)
		return EVP_sha384();
	return EVP_sha256();
}

int issue_shadow_new(X509 *issuer, struct issue_shadow *sh)
{
	EVP_PKEY *ik = X509_get0_pubkey(issuer);
	char group[32] = "";
	size_t len = 0;
	int r = 0;

	memset(sh, 0, sizeof(*sh));
	sh->md = issue_digest_for(ik);
	if (EVP_PKEY_is_a(ik, "EC")) {
		if (!EVP_PKEY_get_utf8_string_param(ik, "group", group, sizeof(group), &len))
			return cer_err_ssl(CER_E_CRYPTO, "cannot read the issuer's curve");
		sh->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
	} else
		sh->key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)EVP_PKEY_get_bits(ik));
	if (sh->key == NULL)
		return cer_err_ssl(CER_E_CRYPTO, "cannot make the throwaway lint key");
	/* The issuer's certificate with the throwaway key: same name, SKI, extensions. */
	sh->issuer = X509_dup(issuer);
	if (sh->issuer == NULL || !X509_set_pubkey(sh->issuer, sh->key) ||
	    X509_sign(sh->issuer, sh->key, sh->md) <= 0)
		r = cer_err_ssl(CER_E_CRYPTO, "cannot make the shadow issuer");
	if (r != 0)
		issue_shadow_free(sh);
	return r;
}

void issue_shadow_free(struct issue_shadow *sh)
{
	X509_free(sh->issuer);
	EVP_PKEY_free(sh->key);
	memset(sh, 0, sizeof(*sh));
}

int issue_lint(struct issue_item *it, X509 *issuer, const struct issue_shadow *sh,
	       const struct profile *p, char (*policies)[PROFILE_OID_MAX], int n_policies)
{
	struct lint_input in = {NULL, issuer, p, policies, n_policies, csr_pubkey(it->csr)};
	int r;

	/* Throwaway-sign the certificate itself (an unsigned X509 cannot be copied); the
	 * HSM's signature replaces this one, over the same TBS, which issue.c checks. */
	X509_free(it->linted);
	if (X509_sign(it->cert, sh->key, sh->md) <= 0 || (it->linted = X509_dup(it->cert)) == NULL)
		return cer_err_ssl(CER_E_CRYPTO, "%s: cannot sign the lint copy", it->csr_path);
	in.cert = it->linted;
	if ((r = lint_cert(&in)) != 0 ||
	    (r = lint_path(it->linted, sh->issuer, p, policies, n_policies, 1)) != 0) {
		cer_err_prefix("%s: refused before signing: ", it->csr_path);
		return r;
	}
	return 0;
}

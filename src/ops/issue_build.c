/* issue: subject composition, shadow issuer, and the throwaway-signed lint. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony/err.h"
#include "ceremony/history.h"
#include "ceremony/lint.h"
#include "issue_int.h"

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

/* Throwaway-sign the certificate itself (an unsigned X509 cannot be copied); the
 * HSM's signature replaces this one, over the same TBS, which issue.c checks. */
static int issue_lint_run(struct issue_item *it, const struct issue_shadow *sh,
			  struct lint_input *in)
{
	int r;

	X509_free(it->linted);
	if (X509_sign(it->cert, sh->key, sh->md) <= 0 || (it->linted = X509_dup(it->cert)) == NULL)
		return cer_err_ssl(CER_E_CRYPTO, "%s: cannot sign the lint copy", it->csr_path);
	in->cert = it->linted;
	if ((r = lint_cert(in)) != 0 ||
	    (r = lint_path(it->linted, sh->issuer, in->profile, in->extra_policies, in->n_extra,
			   1)) != 0) {
		cer_err_prefix("%s: refused before signing: ", it->csr_path);
		return r;
	}
	return 0;
}

/* The lints, with every CA subject the history (and this batch) already holds. */
int issue_lint(struct issue_item *it, X509 *issuer, const struct issue_shadow *sh,
	       const struct profile *p, char (*policies)[PROFILE_OID_MAX], int n_policies,
	       const struct history *h)
{
	struct lint_input in = {NULL, issuer, p, policies, n_policies, csr_pubkey(it->csr), NULL, 0};
	struct lint_name_der *cas = h->n_ca > 0 ? calloc(h->n_ca, sizeof(*cas)) : NULL;
	int r;

	if (h->n_ca > 0 && cas == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (size_t i = 0; i < h->n_ca; i++) {
		cas[i].der = h->ca[i].subject_der;
		cas[i].len = h->ca[i].subject_der_len;
	}
	in.other_cas = cas;
	in.n_other_cas = h->n_ca;
	r = issue_lint_run(it, sh, &in);
	free(cas);
	return r;
}

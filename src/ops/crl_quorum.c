/* crl: the quorum's approval of the final TBSCertList (see crl.h). */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony/approve.h"
#include "ceremony/crl.h"
#include "ceremony/err.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"

static int crl_tbs_sha256(X509_CRL *crl, unsigned char md[SHA256_LEN])
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int n = i2d_re_X509_CRL_tbs(crl, &der), ok;

	ok = n > 0 && EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
	OPENSSL_free(der);
	return ok ? 0 : cer_err_ssl(CER_E_CRYPTO, "cannot encode the TBSCertList");
}

/*
 * The TBSCertList holds the signature's AlgorithmIdentifier, which signing
 * sets. It names only the scheme and digest (ecdsa-with-SHA384,
 * sha256WithRSAEncryption: no key size or curve), so a throwaway key of the
 * issuer's algorithm sets it exactly as the HSM's signature will; the HSM's
 * signed TBS is compared afterwards (crl_quorum_signed).
 */
static int crl_final_tbs(X509 *issuer, X509_CRL *crl, unsigned char md[SHA256_LEN])
{
	EVP_PKEY *ik = X509_get0_pubkey(issuer), *tk = NULL;
	int is_ec = ik != NULL && EVP_PKEY_get_base_id(ik) == EVP_PKEY_EC;
	/* hsmkey_digest: SHA-384 for P-384, SHA-256 otherwise. */
	const EVP_MD *dg = is_ec && EVP_PKEY_get_bits(ik) == 384 ? EVP_sha384() : EVP_sha256();
	int r;

	if (ik == NULL)
		return cer_err(CER_E_INPUT, "the issuer certificate has no key");
	tk = is_ec ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
		   : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (tk == NULL || X509_CRL_sign(crl, tk, dg) <= 0)
		r = cer_err_ssl(CER_E_CRYPTO, "cannot set the CRL's signature algorithm");
	else
		r = crl_tbs_sha256(crl, md);
	EVP_PKEY_free(tk);
	return r;
}

int crl_quorum(struct ceremony_ctx *ctx, struct transcript *tr, const struct crl_opts *o,
	       const struct history *h, X509 *issuer, X509_CRL *crl, FILE *out,
	       unsigned char tbs[SHA256_LEN])
{
	struct approve_item item;
	struct approve_request rq;
	const ASN1_INTEGER *num;
	int r, approved = 0, crit = 0;
	ASN1_INTEGER *n = NULL;
	long number = -1;

	if ((r = crl_final_tbs(issuer, crl, tbs)) != 0)
		return r;
	n = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	num = n;
	if (num != NULL)
		number = ASN1_INTEGER_get(num);
	ASN1_INTEGER_free(n);
	memset(&item, 0, sizeof(item));
	memcpy(item.tbs_sha256, tbs, SHA256_LEN);
	if ((r = text_format(
		 item.what, sizeof(item.what), "the approval's text",
		 "CRL number %ld of the root, %d revoked serial%s, next update in %ld days", number,
		 sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)),
		 sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) == 1 ? "" : "s",
		 o->next_update_days)) != 0)
		return r;
	memset(&rq, 0, sizeof(rq));
	rq.op = QOP_CRL_SIGN;
	rq.n_items = 1;
	rq.items = &item;
	rq.history_dir = o->history_dir;
	rq.history = h;
	return approve_collect(ctx, tr, &rq, &o->approve, out, &approved);
}

int crl_quorum_signed(X509_CRL *crl, const unsigned char tbs[SHA256_LEN])
{
	unsigned char md[SHA256_LEN];
	int r;

	if ((r = crl_tbs_sha256(crl, md)) != 0)
		return r;
	if (CRYPTO_memcmp(md, tbs, SHA256_LEN) != 0)
		return cer_err(CER_E_VERIFY,
			       "the HSM signed a TBSCertList other than the approved one; nothing "
			       "was written");
	return 0;
}

/*
 * certsig: a certificate's signature checked with its issuer's key decoded once
 * (issue 13, the audit). For an ECDSA P-256 or P-384 issuer and an
 * ecdsa-with-SHA256/384 signature, the check is Nettle's ECDSA (GnuTLS's crypto
 * library; about twice OpenSSL 3.0's speed on P-384) over the certificate's own
 * TBS bytes, hashed by OpenSSL; any other issuer key or algorithm is checked by
 * OpenSSL's X509_verify. It does not parse certificates, judge extensions or
 * build paths: lint_path_checked (lint.h) runs OpenSSL's path validation with
 * this module checking the chain's signatures and validity times.
 */
#ifndef CEREMONY_CERTSIG_H
#define CEREMONY_CERTSIG_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

struct certsig_key;

/* The issuer's key, decoded once (a reference to issuer is kept). */
int certsig_key_new(X509 *issuer, struct certsig_key **out) __attribute__((warn_unused_result));
void certsig_key_free(struct certsig_key *k);
/* The issuer the key is of (not a new reference). */
X509 *certsig_key_issuer(const struct certsig_key *k);
/* 1 when Nettle checks this key's signatures, 0 when OpenSSL does. */
int certsig_key_fast(const struct certsig_key *k);

/* 1 if x's signature verifies under the key (and its two algorithm fields agree), 0 if not. */
int certsig_verify(const struct certsig_key *k, X509 *x);

/* 1 if sig (DER, as a certificate's signature BIT STRING holds it) is the key's signature
 * over tbs with digest md (the same checks: Nettle for an ECDSA P-256/384 key with
 * SHA-256/384, else OpenSSL's EVP_DigestVerify), 0 if not. */
int certsig_verify_tbs(const struct certsig_key *k, const EVP_MD *md, const uint8_t *tbs,
		       size_t tbs_len, const uint8_t *sig, size_t sig_len);

/*
 * lint_path_checked's setup (arg: the struct certsig_key of the issuer): the path
 * validation's signature-and-time pass checks the leaf's signature with the key
 * decoded once, and each certificate's validity times as OpenSSL does; any chain
 * other than a leaf under a self-signed anchor with that key goes to OpenSSL's own pass.
 */
int certsig_path_setup(X509_STORE_CTX *ctx, void *arg);

#endif

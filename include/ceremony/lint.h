/*
 * lint — does a certificate say exactly what its profile and RFC 5280 require?
 *
 * Owns: the rule checks run on every certificate before the HSM signs it (on a
 * copy signed with a throwaway key) and again by the offline replay: version,
 * serial, issuer name, validity (and its nesting in the issuer's), each
 * extension against the profile, policy discipline, key identifiers, duplicate
 * extensions, subject strings, a CA's name unique in the history, the subject
 * key; a CRL's rules; and OpenSSL's own strict
 * RFC 5280 path validation (with policy checking) against the issuer. Does not
 * own: building certificates (certbuild) or signing them (issue).
 */
#ifndef CEREMONY_LINT_H
#define CEREMONY_LINT_H

#include <openssl/x509.h>

#include "ceremony/profile.h"

/* A name as DER (another CA's subject the certificate must not repeat). With
 * hashed set (lint_name_der_hash), a name whose hashes differ from the
 * certificate's is passed over without being decoded. */
struct lint_name_der {
	const unsigned char *der;
	size_t len;
	unsigned long subject_hash, cn_hash; /* X509_NAME_hash_ex: the name, its CN alone */
	int hashed, has_cn;
};

struct lint_input {
	X509 *cert;
	X509 *issuer; /* NULL for a self-signed root */
	const struct profile *profile;
	char (*extra_policies)[PROFILE_OID_MAX];
	int n_extra;
	EVP_PKEY *expected_key; /* the key the certificate must carry (the CSR's); may be NULL */
	const struct lint_name_der *other_cas; /* every other CA subject in the CA's history */
	size_t n_other_cas;
};

/* Fill d's hashes from its DER, once (hashed stays 0 if the DER does not decode). */
/* Canonical comparison (X509_NAME_cmp: case and inner spaces folded) of the CN alone:
 * 1 when both names have a CN and the two are equal. */
int lint_cn_same(const X509_NAME *a, const X509_NAME *b);
void lint_name_der_hash(struct lint_name_der *d);
/*
 * Lint cert-ca-name-unique against a list: CER_E_REFUSED if subject, or its CN
 * (both compared canonically, as X509_NAME_cmp does), is one of others';
 * where says whose they are in the message ("a CA already in the history").
 */
int lint_ca_name_unique(const X509_NAME *subject, const struct lint_name_der *others, size_t n,
			const char *where) __attribute__((warn_unused_result));

/* The profile and RFC 5280 rules; CER_E_REFUSED naming the first broken rule. */
int lint_cert(const struct lint_input *in) __attribute__((warn_unused_result));

/*
 * OpenSSL's X509_verify_cert in strict mode with policy checking
 * (explicit policy, the profile's policies as the initial set) of cert under
 * issuer as the only trust anchor, at time now if at_issuance, else at the
 * cert's notBefore (a replay). CER_E_REFUSED with OpenSSL's reason (lint cert-path).
 */
int lint_path(X509 *cert, X509 *issuer, const struct profile *p,
	      char (*extra_policies)[PROFILE_OID_MAX], int n_extra, int at_issuance)
	__attribute__((warn_unused_result));
/*
 * lint_path of a replay (as of the cert's notBefore) under the issuer whose key
 * certsig decoded once: the same validation, the leaf's signature checked by
 * certsig_verify (certsig.h: Nettle's ECDSA for P-256/P-384 issuers, about twice
 * OpenSSL 3.0's speed on P-384, else OpenSSL's) rather than by OpenSSL's own pass.
 */
struct certsig_key;
int lint_path_checked(X509 *cert, struct certsig_key *issuer_key, const struct profile *p,
		      char (*extra_policies)[PROFILE_OID_MAX], int n_extra)
	__attribute__((warn_unused_result));

/*
 * A CRL's rules (docs/lint.md): v2, the issuer's name, authorityKeyIdentifier =
 * the issuer's SKI, a cRLNumber, nextUpdate within CRL_LINT_MAX_DAYS of
 * thisUpdate, each entry's serial positive and listed once, each reasonCode
 * non-critical and one RFC 5280 5.3.1 and BR 7.2.2 allow. CER_E_REFUSED naming
 * the first broken rule. The signature is the caller's to check.
 */
#define CRL_LINT_MAX_DAYS 365
int lint_crl(X509_CRL *crl, X509 *issuer) __attribute__((warn_unused_result));
/* The reasons written (RFC 5280 5.3.1): keyCompromise -> 1 ...; "unspecified" is
 * written as no reasonCode; -1 for any other name. */
int lint_crl_reason_code(const char *name);
/* The reasonCode of a CRL entry: 0 when absent (unspecified), -1 when malformed. */
int lint_crl_entry_reason(X509_REVOKED *rev);

#endif

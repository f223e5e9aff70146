/*
 * certbuild — building X.509 certificates from a profile, and signing them.
 *
 * Owns: serial numbers (HSM RNG and libsodium hashed together, 126 random bits, positive),
 * subject names from "/C=DE/O=Org/CN=Name" text, validity, the extensions a
 * profile fixes (basicConstraints, keyUsage, EKU, policies, SKI, AKI), signing
 * with an HSM key and checking the signature with the expected public key
 * before anything is written. Does not own: CSRs, profiles' parsing, files.
 */
#ifndef CEREMONY_CERTBUILD_H
#define CEREMONY_CERTBUILD_H

#include <openssl/x509.h>

#include <stdint.h>

#include "ceremony/profile.h"
#include "ceremony/sizes.h"

#define CERTBUILD_SERIAL_LEN 16
#define CERTBUILD_DN_MAX 1024

/* A serial from 16 fresh random octets (the caller draws them from the HSM mixed with
 * libsodium: p11_random_mixed): top bits 01, so positive and always 16 octets. */
int certbuild_serial(const uint8_t random[CERTBUILD_SERIAL_LEN], ASN1_INTEGER **out)
	__attribute__((warn_unused_result));

/*
 * Parse "/C=DE/O=ACME Devices/CN=ACME Root CA" ("\/" for a slash in a value).
 * Refuses empty values, control characters, a country that is not two
 * letters, duplicate CN, and over-long values; require_cn insists on a CN.
 */
int certbuild_name_parse(const char *dn, int require_cn, X509_NAME **out)
	__attribute__((warn_unused_result));

/*
 * A certificate (unsigned) for subject_key under the profile. issuer NULL means
 * self-signed (issuer name = subject). Policies: the profile's plus extra.
 */
int certbuild_new(const struct profile *p, X509_NAME *subject, EVP_PKEY *subject_key,
		  X509 *issuer, ASN1_INTEGER *serial, char (*extra_policies)[PROFILE_OID_MAX],
		  int n_extra, X509 **out) __attribute__((warn_unused_result));

/* Sign with signer (the HSM key) using md, then verify with verify_key. */
int certbuild_sign(X509 *x, EVP_PKEY *signer, const EVP_MD *md, EVP_PKEY *verify_key)
	__attribute__((warn_unused_result));

/* SHA-256 of the DER certificate / of a DER SPKI, as 32 bytes. */
int certbuild_fingerprint(X509 *x, uint8_t out[SHA256_LEN]) __attribute__((warn_unused_result));

#endif

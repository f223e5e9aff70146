/*
 * certinfo — what the transcript records about a certificate, and how it is shown.
 *
 * Owns: the JSON object a transcript keeps for every certificate it records
 * (subject as RFC 4514 text and as DER, serial in uppercase hex, validity, SHA-256 of the DER, SHA-256 of
 * the SPKI, profile, policies), and printing a certificate's identity for the
 * people in the room. Does not own: building or checking certificates.
 */
#ifndef CEREMONY_CERTINFO_H
#define CEREMONY_CERTINFO_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "ceremony/sizes.h"

#define CERTINFO_NAME_TEXT_MAX 4096

/* A name as RFC 4514 text (UTF-8; special characters escaped). */
int certinfo_name_rfc4514(const X509_NAME *name, char *out, size_t size)
	__attribute__((warn_unused_result));
/* Sets obj[text_key] = RFC 4514 text and obj[der_key] = the DER in hex; returns obj,
 * or NULL (obj released) on failure. */
json_t *certinfo_name_json(const X509_NAME *name, json_t *obj, const char *text_key,
			   const char *der_key);
/* New reference, or NULL on allocation failure. subject is RFC 4514 text,
 * subject_der the subject's DER in hex (the text alone can be ambiguous). */
json_t *certinfo_json(X509 *x, const char *profile_name);
/* SHA-256 of the DER SubjectPublicKeyInfo. */
int certinfo_spki_sha256(EVP_PKEY *key, uint8_t out[SHA256_LEN])
	__attribute__((warn_unused_result));
/* Serial as uppercase hex (BN_bn2hex); out holds 41 bytes. */
int certinfo_serial_hex(X509 *x, char out[41]) __attribute__((warn_unused_result));
/* SHA-256 of the TBSCertificate as it stands (its signature algorithm must be set):
 * the bytes the quorum approves and the HSM signs. */
int certinfo_tbs_sha256(X509 *x, uint8_t out[SHA256_LEN]) __attribute__((warn_unused_result));
/* "  sha256 ...", "  read aloud ...", subject, serial, notAfter, policies. */
void certinfo_print(FILE *out, X509 *x);

#endif

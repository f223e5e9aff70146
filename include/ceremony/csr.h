/*
 * csr — certificate signing requests carried in on removable media.
 *
 * Owns: reading one PKCS#10 request (RFC 2986) from a file, strictly (DER, or
 * PEM holding exactly one "CERTIFICATE REQUEST" block and nothing else, and
 * the DER must re-encode to the same bytes), and the checks of
 * research/profiles.md §5 on it: version, proof of possession, signature hash,
 * key algorithm/size/validity, key reuse, attributes, subject rules, requested
 * extensions, and (with a profile) whether the request fits the profile. Every
 * check runs and leaves a verdict in a struct csr_report; docs/csr.md lists
 * them. Also the SPKI SHA-256 fingerprint read aloud at the ceremony. Does not
 * own: building or signing certificates (certbuild, issue), profiles' parsing
 * (profile), or the database of certified keys (the caller passes their
 * SPKI hashes).
 */
#ifndef CEREMONY_CSR_H
#define CEREMONY_CSR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/x509.h>

#include "ceremony/keytype.h"
#include "ceremony/profile.h"
#include "ceremony/sizes.h"

#define CSR_MAX_BYTES (64 * 1024)
#define CSR_SUBJECT_MAX_DER 1024 /* whole DER subject, bytes */
#define CSR_RSA_MIN_BITS 2048    /* BR 6.1.5 */
#define CSR_RSA_MIN_CA_BITS 3072 /* research/profiles.md §5.4 (tool) */
#define CSR_RSA_MAX_BITS 8192    /* bigger moduli only cost verification time */
#define CSR_MAX_CHECKS 40
#define CSR_CHECK_NAME_MAX 32
#define CSR_CHECK_MSG_MAX 256

struct csr; /* one parsed request; opaque */

/* What the request is checked against. Every pointer may be NULL / count 0. */
struct csr_policy {
	const struct profile *profile; /* adds the profile-* checks */
	const X509 *root;              /* the root certificate: its key must not be reused */
	const uint8_t (*known_spki)[SHA256_LEN]; /* SPKI SHA-256 of keys already certified */
	size_t n_known_spki;
};

struct csr_verdict {
	char name[CSR_CHECK_NAME_MAX]; /* e.g. "signature-hash", as docs/csr.md lists it */
	int pass;                      /* 1 pass, 0 fail */
	char msg[CSR_CHECK_MSG_MAX];   /* why it failed, or what passed ("P-256, ecdsa-with-SHA256") */
};

struct csr_report {
	int n;
	int n_failed;
	struct csr_verdict checks[CSR_MAX_CHECKS];
};

/*
 * Read path (at most CSR_MAX_BYTES): DER, or PEM with one CERTIFICATE REQUEST
 * block and only whitespace around it. CER_E_INPUT, with a message starting
 * "path: pem-format: " or "path: der-strict: ", when it is anything else.
 */
int csr_load(const char *path, struct csr **out) __attribute__((warn_unused_result));
/* The same from bytes in memory; name is used in messages (fuzzers call this). */
int csr_parse(const uint8_t *data, size_t len, const char *name, struct csr **out)
	__attribute__((warn_unused_result));
void csr_free(struct csr *c);

/*
 * A request's subject and SubjectPublicKeyInfo as encoded, found by walking its
 * outer DER structure only: its key is not decoded (OpenSSL 3 builds a key decoder
 * per request; the audit replays thousands whose bytes the transcript proves).
 * No check of the request: csr_load is the full, strict parse.
 */
struct csr_raw {
	uint8_t *der; /* the request's DER (owned) */
	size_t der_len;
	const uint8_t *subject, *spki; /* within der */
	size_t subject_len, spki_len;
};
int csr_raw_load(const char *path, struct csr_raw *out) __attribute__((warn_unused_result));
void csr_raw_free(struct csr_raw *r);

/*
 * Run every check and record one verdict each (the report is overwritten).
 * Returns 0 when all pass, CER_E_REFUSED (message "N checks failed: a, b")
 * when any fails, another CER_E_* if a check could not run at all.
 */
int csr_check(const struct csr *c, const struct csr_policy *policy, struct csr_report *report)
	__attribute__((warn_unused_result));
/* "  ✓ name" or "  ✗ name: reason", one line per check. */
void csr_report_print(const struct csr_report *report, FILE *f);
/* Failed checks' names, comma separated ("signature-hash, key-size"). */
void csr_report_failed_names(const struct csr_report *report, char *buf, size_t size);

/* The name given to csr_load/csr_parse. */
const char *csr_name(const struct csr *c);
/* The parsed request and its public key (NULL if OpenSSL cannot decode the key); owned by c. */
X509_REQ *csr_req(const struct csr *c);
EVP_PKEY *csr_pubkey(const struct csr *c);
/* SHA-256 of the DER SubjectPublicKeyInfo, and of the whole DER request. */
int csr_spki_sha256(const struct csr *c, uint8_t out[static SHA256_LEN])
	__attribute__((warn_unused_result));
int csr_sha256(const struct csr *c, uint8_t out[static SHA256_LEN])
	__attribute__((warn_unused_result));
/* SHA-256 of a certificate's SPKI, to compare with csr_spki_sha256 (e.g. the root's). */
int csr_cert_spki_sha256(const X509 *x, uint8_t out[static SHA256_LEN])
	__attribute__((warn_unused_result));
/* The subject as one line, control and non-ASCII bytes escaped ("C=DE, O=ACME, CN=x"). */
int csr_subject_text(const struct csr *c, char *buf, size_t size)
	__attribute__((warn_unused_result));
/*
 * The key as one of the profile key types (ec-p256, ec-p384, rsa-3072, rsa-4096:
 * an RSA key of exactly 3072 or 4096 bits); CER_E_INPUT for any other key.
 */
int csr_key_type(const struct csr *c, enum key_type *out) __attribute__((warn_unused_result));
/* "EC P-256", "RSA 3072 bits, e=65537", "EC secp256k1 (not allowed)", ... */
void csr_key_text(const struct csr *c, char *buf, size_t size);
/* The requested extensions, one per line, indented; "  (none)" when there are none. */
void csr_extensions_print(const struct csr *c, FILE *f);

/*
 * `ceremony csr show`: load the request at path, print its subject, key, SPKI SHA-256,
 * requested extensions and every check's verdict (against the profile and the root
 * when given) to f. 0 when every check passes.
 */
int csr_show_report(const char *path, const char *profile_path, const char *root_path, FILE *f);

#endif

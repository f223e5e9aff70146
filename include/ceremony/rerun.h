/*
 * rerun — what a killed run of a one-certificate command left behind.
 *
 * cert root, cert signer and cert cross write their certificate, then record it:
 * a kill in between leaves a certificate on disk that no record names. A rerun of
 * the same command finds it: if it is exactly what the command makes (signed by
 * the issuer's key, the issuer's and the requested subject's names, the subject
 * key) and the history does not record its serial, the rerun records it
 * ("recorded_after_interruption") and signs nothing; anything else in its place is
 * refused, never overwritten.
 *
 * Owns: reading and matching the found certificate. Does not own: the record
 * (each command's own), the history (history).
 */
#ifndef CEREMONY_RERUN_H
#define CEREMONY_RERUN_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony/history.h"

/*
 * The output path before the first login: absent (0, *found NULL, checked as
 * file_check_new does), or holding a certificate (0, *found it, to be matched
 * after the login), or holding anything else (CER_E_EXISTS, nothing overwritten).
 */
int rerun_output(const char *path, X509 **found) __attribute__((warn_unused_result));

struct rerun_expect {
	EVP_PKEY *issuer_key;           /* must verify the found certificate's signature */
	const X509_NAME *issuer_name;   /* its issuer field */
	const X509_NAME *subject;       /* its subject */
	EVP_PKEY *subject_key;          /* the key it certifies */
	const char *what;               /* "root certificate", for messages */
};

/*
 * The found certificate is the one this command makes and no record names its
 * serial: 0. Recorded already, or not this command's: CER_E_EXISTS saying which.
 */
int rerun_match(X509 *found, const char *path, const struct rerun_expect *e,
		const struct history *hist) __attribute__((warn_unused_result));

#endif

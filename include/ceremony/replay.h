/*
 * replay — re-checking, offline, what a transcript says was issued.
 *
 * Owns: for every cert.root, cert.issue and crl.sign record whose files are
 * still present: the certificate's signature with its issuer's key (and the
 * issuer is the given root, when one is given), its key equals the CSR's, its
 * subject is what the profile makes of the CSR's, the profile's rules (lint),
 * the recorded serial, and serial uniqueness across the records; a CRL's
 * signature. Does not own: the chain and seal (transcript), the rules (lint).
 */
#ifndef CEREMONY_REPLAY_H
#define CEREMONY_REPLAY_H

#include <stdio.h>

#include <openssl/x509.h>

struct replay_report {
	long certificates; /* re-checked */
	long crls;
	long not_present; /* records whose files are gone */
};

int replay_transcript(const char *path, X509 *root, FILE *out, struct replay_report *rep)
	__attribute__((warn_unused_result));

#endif

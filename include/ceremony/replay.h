/*
 * replay — re-checking, offline, what a transcript says was issued.
 *
 * Owns: for every cert.root, cert.issue and crl.sign record whose files are
 * still present: the certificate's signature with its issuer's key (and the
 * issuer is the given root, when one is given), its key equals the CSR's, its
 * subject is what the profile makes of the CSR's, the profile's rules (lint),
 * the recorded serial, and serial uniqueness across the records; a CRL's
 * signature; a root rollover (a second self-signed root is accepted only if a
 * cert.cross of the same transcript by an accepted root certifies its key), and
 * every cross certificate's signature, issuer and subject. Does not own: the chain and seal (transcript), the rules (lint).
 */
#ifndef CEREMONY_REPLAY_H
#define CEREMONY_REPLAY_H

#include <limits.h>
#include <stdio.h>

#include <openssl/x509.h>

#include "ceremony/archive.h"

struct replay_report {
	long certificates; /* re-checked */
	long crls;
	long not_present; /* records whose files are gone */
	long cross;       /* cross certificates re-checked */
	/* A rollover in this transcript: the new root's certificate, cross-certified by the
	 * root in force, and whether the old root may still issue afterwards. */
	char new_root[PATH_MAX];
	int old_root_may_issue;
};

int replay_transcript(const char *path, X509 *root, FILE *out, struct replay_report *rep)
	__attribute__((warn_unused_result));

/* The same, where the roots in also (may be NULL) may issue too (an old root that a
 * rollover let go on issuing). */
int replay_transcript_roots(const char *path, X509 *root, STACK_OF(X509) *also, FILE *out,
			    struct replay_report *rep) __attribute__((warn_unused_result));

/* The same, finding the recorded files through view (NULL: the default layout; the
 * audit's --archive, --folder, --outside). A CA name over the whole history is the
 * audit's own check, from the records (audit_history.c). */
int replay_transcript_history(const char *path, const struct archive_view *view, X509 *root,
			      STACK_OF(X509) *also, FILE *out, struct replay_report *rep)
	__attribute__((warn_unused_result));
/* The same over the records transcript_verify_records kept from the sealed bytes
 * (NULL: the transcript is read again). */
int replay_records_history(const char *path, json_t *records, const struct archive_view *view,
			   X509 *root, STACK_OF(X509) *also, FILE *out, struct replay_report *rep)
	__attribute__((warn_unused_result));

#endif

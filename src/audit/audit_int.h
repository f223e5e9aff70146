/* Shared between audit.c (the chain of ceremonies) and audit_history.c (what they did). */
#ifndef CEREMONY_AUDIT_INT_H
#define CEREMONY_AUDIT_INT_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ceremony/sizes.h"
#include "ceremony/lint.h"

#define AUDIT_SERIAL_MAX 41
#define AUDIT_WHERE_MAX (NAME_MAX + 24)

struct audit_cert {
	char serial[AUDIT_SERIAL_MAX];
	char subject[256];
	char not_after[TIME_TEXT_SIZE];
	char profile[64];
	char where[AUDIT_WHERE_MAX]; /* "FILE line N" */
	int is_root;
	const char *pinned; /* issue 16: how its request was pinned, in words */
	unsigned char *ca_subject_der; /* a CA's subject (the root, profile_kind "ca"), else NULL */
	size_t ca_subject_der_len;
	struct lint_name_der ca_name; /* its cert-ca-name-unique hashes, computed once */
};

struct audit_revocation {
	char serial[AUDIT_SERIAL_MAX];
	char reason[32];
	char where[AUDIT_WHERE_MAX];
};

/* What one ceremony did (reset for each), and the totals of the history. */
struct audit_counts {
	long certificates, crls, witnesses, backups_created, backups_superseded, drills,
		recoveries;
	double last_drill_seconds;
};

struct audit_history {
	const char *file; /* the transcript being walked (its name, for messages) */
	struct audit_cert *certs;
	size_t n_certs;
	size_t *serial_slots; /* open addressing over certs by serial: index + 1, 0 empty */
	size_t serial_cap;    /* a power of two, at least twice n_certs */
	/* The CAs (cert-ca-name-unique): by name hash and by CN hash (index + 1, 0 empty,
	 * each table a power of two at least twice its entries), and those whose name did
	 * not hash, which every CA is compared with. */
	size_t *ca_by_name, *ca_by_cn, *ca_unhashed;
	size_t ca_cap, n_ca_hashed, n_ca_unhashed;
	struct audit_revocation *revoked;
	size_t n_revoked;
	long long crl_number;
	char crl_where[AUDIT_WHERE_MAX];
	char last_drill[TIME_TEXT_SIZE];
	struct audit_counts now;   /* this ceremony */
	struct audit_counts total; /* the whole history */
	long records;
	json_t *pins; /* the requests the current ceremony's script pinned (ceremony.start) */
};

/* transcript_each callback: serials, CRL numbers, revocations, backups, drills. */
int audit_history_record(void *arg, long line, json_t *rec);
void audit_history_free(struct audit_history *h);
/* The inventory at the end: root, live certificates, revocations, backups. */
void audit_history_print(const struct audit_history *h, FILE *out, long *live);

#endif

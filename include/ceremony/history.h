/*
 * history — the CA's life as its transcripts record it: the database of an offline CA.
 *
 * Owns: reading every transcript (*.jsonl) in a folder, each chain-verified,
 * and collecting what must stay unique or monotonic across the CA's whole
 * life: certificate serial numbers, certified public keys (SPKI SHA-256),
 * CRL numbers, and revocations. Does not own: the transcript format
 * (transcript) or what is done with the answers (issue, crl).
 */
#ifndef CEREMONY_HISTORY_H
#define CEREMONY_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "ceremony/lint.h"
#include "ceremony/sizes.h"

#define HISTORY_SERIAL_HEX_MAX 41 /* 20 octets */

struct history_revocation {
	char serial[HISTORY_SERIAL_HEX_MAX]; /* uppercase hex, as BN_bn2hex */
	char reason[SHA256_LEN];
	long long time; /* seconds since the epoch */
};

/* A CA certificate the CA issued (or the root itself): what must stay unique among CAs. */
struct history_ca {
	char serial[HISTORY_SERIAL_HEX_MAX];
	unsigned char *subject_der; /* the subject's DER, as recorded (subject_der) */
	size_t subject_der_len;
	/* The subject as lint cert-ca-name-unique takes it (name.der is subject_der), its
	 * hashes computed once: when the record is parsed, then kept in the index. */
	struct lint_name_der name;
};

/*
 * What the quorum walk needs of one transcript (quorum_state_load), taken from the
 * same read as the rest, so that a call reads each transcript once: the time of its
 * first record, and whether a record's action is one of the few the walk looks for.
 */
#define HISTORY_MARK_QUORUM 1u    /* a quorum.* or witness.register record */
#define HISTORY_MARK_ROOT 2u      /* a cert.root record */
#define HISTORY_MARK_ABANDONED 4u /* a ceremony.abandoned record */
#define HISTORY_FIRST_TIME_MAX 40

struct history_file {
	char *name;  /* its name in the folder (malloc'd) */
	int sealed;  /* it had its .sig when read: a sealed transcript never changes */
	int known;   /* first_time and marks hold (else the walk reads the file itself) */
	char first_time[HISTORY_FIRST_TIME_MAX]; /* its first record's "time", as written */
	unsigned marks;                          /* HISTORY_MARK_* */
};

struct history {
	char *dir; /* the folder read (malloc'd; NULL for a history built in memory) */
	size_t n_transcripts;
	struct history_file *files; /* n_transcripts, by name */
	size_t n_serials;
	char (*serials)[HISTORY_SERIAL_HEX_MAX];
	size_t n_spki;
	uint8_t (*spki)[SHA256_LEN];
	long long max_crl_number; /* 0: no CRL yet */
	size_t n_revoked;
	struct history_revocation *revoked;
	size_t n_ca, ca_cap;
	struct history_ca *ca; /* cert.root and every cert.issue of profile_kind "ca" */
	/* Open-addressing indexes (entry + 1, 0 empty) over serials and spki: lookups in O(1). */
	uint32_t *serial_slots, *spki_slots;
	size_t serial_cap, spki_cap; /* powers of two, at most half full */
};

/* Read every *.jsonl in dir (a missing dir is an empty history). */
int history_load(const char *dir, struct history **out) __attribute__((warn_unused_result));
/* The history beside a transcript: dir if given, else the transcript's own folder. */
int history_load_beside(const char *transcript, const char *dir, struct history **out)
	__attribute__((warn_unused_result));
void history_free(struct history *h);
/* The facts of the transcript of that name (no folder), or NULL. */
const struct history_file *history_file_find(const struct history *h, const char *name);
int history_has_serial(const struct history *h, const char *hex);
int history_has_spki(const struct history *h, const uint8_t spki[SHA256_LEN]);
/* Add in memory (a batch's own serials and keys). */
int history_add_serial(struct history *h, const char *hex) __attribute__((warn_unused_result));
int history_add_spki(struct history *h, const uint8_t spki[SHA256_LEN])
	__attribute__((warn_unused_result));
/* A CA certificate by serial (uppercase or lowercase hex), or NULL. */
const struct history_ca *history_find_ca(const struct history *h, const char *hex);
int history_add_ca(struct history *h, const char *hex, const unsigned char *subject_der,
		   size_t len) __attribute__((warn_unused_result));

#endif

/*
 * transcript — the append-only, hash-chained record of everything a ceremony did.
 *
 * Owns: the JSON Lines format (one object per line: seq, time, ceremony, action,
 * inputs, outputs, details, prev), where prev is the SHA-256 (hex) of the
 * previous line's exact bytes without its newline and the first line's prev is
 * a random nonce; appending with fsync before success is reported; the detached
 * CMS seal (FILE.sig) made with an HSM key; and verification (chain, output
 * hashes, seal) naming the first bad line. Paths in records are relative to the
 * transcript's folder. Never holds a secret. Does not own: what actions mean.
 */
#ifndef CEREMONY_TRANSCRIPT_H
#define CEREMONY_TRANSCRIPT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "ceremony/archive.h"

#include "ceremony/sizes.h"

#define TRANSCRIPT_MAX_BYTES (256L * 1024 * 1024)
#define TRANSCRIPT_LINE_MAX (1024 * 1024)

struct transcript;

/*
 * Open path for appending: an existing transcript is verified first (a broken
 * chain or a sealed transcript is refused); a new one starts with a nonce.
 * ceremony_id may be NULL (an existing file's id, or a random one).
 */
int transcript_open(const char *path, const char *ceremony_id, struct transcript **out)
	__attribute__((warn_unused_result));
/*
 * The same, naming the previous ceremony's sealed transcript: a new transcript
 * starts with a "ceremony.begin" record holding its SHA-256, its seal's SHA-256
 * and its head, so the transcripts form one chain (DESIGN.md "Transcript").
 * previous may be NULL (the first ceremony); it must be sealed and intact.
 */
int transcript_open_after(const char *path, const char *ceremony_id, const char *previous,
			  struct transcript **out) __attribute__((warn_unused_result));
void transcript_close(struct transcript *t);

/* {"path": relative to the CA's archive (archive.h), "sha256": hex} for a file that
 * exists; outside the archive, its base name and "outside_archive": true. */
int transcript_file_entry(const struct transcript *t, const char *path, json_t **out)
	__attribute__((warn_unused_result));
/* An array of transcript_file_entry's, one for each path up to the NULL. */
int transcript_files(const struct transcript *t, json_t **out, ...)
	__attribute__((sentinel)) __attribute__((warn_unused_result));
/* The same with the SHA-256 of the bytes the caller itself read or wrote there. */
int transcript_data_entry(const struct transcript *t, const char *path,
			  const uint8_t sha256[SHA256_LEN], json_t **out)
	__attribute__((warn_unused_result));

/*
 * Append one record and fsync. inputs/outputs (arrays) and details (object) may
 * be NULL; the references are stolen. Returns the record's seq in *seq if non-NULL.
 */
int transcript_append(struct transcript *t, const char *action, json_t *inputs, json_t *outputs,
		      json_t *details, long *seq) __attribute__((warn_unused_result));

const char *transcript_ceremony(const struct transcript *t);

/* The seq the next transcript_append's record will get (after a pending ceremony.begin). */
long transcript_next_seq(const struct transcript *t);

/*
 * From now on, transcript_append chains records in memory; transcript_flush
 * appends them all with one fsync (a batch's records, after its outputs are
 * durable). A failed flush leaves the transcript object unusable: close it.
 */
void transcript_hold(struct transcript *t);
int transcript_flush(struct transcript *t) __attribute__((warn_unused_result));
/* details[key] = path relative to the archive (archive_note_path): a file or folder a
 * record names without its hash. */
int transcript_note_path(const struct transcript *t, const char *path, json_t *details,
			 const char *key) __attribute__((warn_unused_result));

/* Add a field to a new transcript's ceremony.begin record (no effect on an existing one). */
int transcript_begin_note(struct transcript *t, const char *key, json_t *value)
	__attribute__((warn_unused_result));

/* Seal: write path.sig, a detached DER CMS signature over the whole file. */
int transcript_seal(const char *path, EVP_PKEY *key, X509 *cert)
	__attribute__((warn_unused_result));

struct transcript_report {
	long records;
	long outputs_checked;
	long outputs_missing;
	long outputs_outside; /* recorded paths outside the archive, not followed */
	int sealed;
	long test_cost_records; /* backups sealed at the test Argon2id cost (issue 9 item 14) */
	long test_cost_line;    /* the first of them */
	int anchored; /* the seal was checked against a given root */
	char signer[256];
	uint8_t head[SHA256_LEN]; /* SHA-256 of the last line */
};

#define TRANSCRIPT_ALLOW_UNSEALED 1u   /* accept no .sig (the chain is still checked) */
#define TRANSCRIPT_ALLOW_UNANCHORED 2u /* accept a seal checked only against a recorded key */

/*
 * Verify the chain, then the seal, and only then the files the records name (inside
 * the archive). With root, the seal's signer must chain to it; root NULL checks it
 * against a key the transcript records, which proves nothing about who wrote it, so
 * that fails ("unanchored") unless flags allow it. An unsealed transcript fails unless
 * flags allow it. Progress lines go to out (may be NULL).
 */
int transcript_verify(const char *path, X509 *root, unsigned flags, FILE *out,
		      struct transcript_report *rep) __attribute__((warn_unused_result));
/* The same, finding the recorded files through view (NULL: the default layout). A
 * recorded path that is absolute or climbs with ".." fails the verification. */
int transcript_verify_view(const char *path, const struct archive_view *view, X509 *root,
			   unsigned flags, FILE *out, struct transcript_report *rep)
	__attribute__((warn_unused_result));
/* The same, handing back (a new reference, in *records) the records it parsed from the
 * bytes the seal covers, one JSON object a line, for the caller's later passes
 * (transcript_each_records); *records is NULL when the transcript was too large to keep. */
int transcript_verify_records(const char *path, const struct archive_view *view, X509 *root,
			      unsigned flags, FILE *out, struct transcript_report *rep,
			      json_t **records) __attribute__((warn_unused_result));

/*
 * Issue 9 item 14: after transcript_verify, refuse a transcript whose backups
 * were sealed at the test Argon2id cost, unless allowed_because names what
 * allowed it (the verifier's --allow-test-cost, or ceremony.yaml's
 * argon2_cost: test in a step of ceremony run); when allowed, say so on out. CER_E_VERIFY
 * names the first such record.
 */
int transcript_test_cost_check(const char *path, const struct transcript_report *rep,
			       const char *allowed_because, FILE *out)
	__attribute__((warn_unused_result));

/*
 * The file a record names: a recorded path resolved against the CA's archive, the
 * folder that holds the transcript's folder (archive_resolve with the default view):
 * CER_E_VERIFY if it is absolute or climbs with "..", CER_E_REFUSED through a
 * symlinked folder out of the archive.
 */
int transcript_record_path(const char *transcript, const char *recorded, char *out, size_t size)
	__attribute__((warn_unused_result));

/* Calls fn for each record (parsed) of a chain-verified transcript, in order. */
int transcript_each(const char *path, int (*fn)(void *arg, long line, json_t *rec), void *arg)
	__attribute__((warn_unused_result));
/*
 * A transcript read once (issue 13): its bytes, its chain checked as transcript_each
 * does (fn, may be NULL, called for each record), its head (hex), and its records
 * parsed and kept (records NULL when it is too large to keep as JSON).
 */
struct transcript_read {
	uint8_t *data;
	size_t len;
	json_t *records;
	char head[SHA256_HEX_SIZE];
};
int transcript_read_walk(const char *path, int (*fn)(void *arg, long line, json_t *rec),
			 void *arg, struct transcript_read *t) __attribute__((warn_unused_result));
void transcript_read_free(struct transcript_read *t);
/* transcript_verify_records over those bytes and records: the seal covers the bytes the
 * records were parsed from, and nothing is read or parsed again. */
int transcript_verify_read(const char *path, const struct transcript_read *t,
			   const struct archive_view *view, X509 *root, unsigned flags, FILE *out,
			   struct transcript_report *rep, json_t **records)
	__attribute__((warn_unused_result));
/* The same over records transcript_verify_records kept (NULL: path read again). */
int transcript_each_records(const char *path, json_t *records,
			    int (*fn)(void *arg, long line, json_t *rec), void *arg)
	__attribute__((warn_unused_result));
/* The same over a transcript already read into memory (path names it in messages). */
int transcript_each_data(const char *path, const uint8_t *data, size_t len,
			 int (*fn)(void *arg, long line, json_t *rec), void *arg)
	__attribute__((warn_unused_result));

#endif

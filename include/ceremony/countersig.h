/*
 * countersig — witnesses' countersignatures of sealed transcripts, and checking them.
 *
 * Owns: the countersignature file TRANSCRIPT.countersig-ROLE (JSON, see
 * docs/audit.md "Countersignatures"): an ECDSA signature with SHA-256 over the
 * whole sealed transcript file, made by a witness's card key; the registry of
 * witness keys read from witness.register records; and checking every
 * countersignature next to a transcript against that registry, naming the file
 * that fails. Does not own: the card keys or signing (witness), the transcript's
 * chain and seal (transcript).
 */
#ifndef CEREMONY_COUNTERSIG_H
#define CEREMONY_COUNTERSIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "ceremony/sizes.h"

#define COUNTERSIG_FORMAT "ceremony-countersignature-v1"
#define COUNTERSIG_ALGORITHM "ecdsa-with-SHA256"
#define COUNTERSIG_MAX_BYTES (16 * 1024)
#define COUNTERSIG_SIG_MAX 144 /* DER ECDSA-Sig-Value up to P-521 */
#define COUNTERSIG_ROLE_MAX 32
#define COUNTERSIG_NAME_MAX 128
#define COUNTERSIG_SUFFIX ".countersig-"

/* A role names a file: 1..32 of A-Z a-z 0-9 - _ (IW, KE1, SO, ...). */
int countersig_role_check(const char *role) __attribute__((warn_unused_result));

/* TRANSCRIPT.countersig-ROLE */
int countersig_path(const char *transcript, const char *role, char *out, size_t size)
	__attribute__((warn_unused_result));

/* The file's bytes (malloc'd, NUL-terminated JSON with a final newline). */
int countersig_encode(const char *transcript, const uint8_t transcript_sha256[SHA256_LEN],
		      const char *role, const uint8_t signer_spki_sha256[SHA256_LEN],
		      const uint8_t *sig, size_t sig_len, char **out)
	__attribute__((warn_unused_result));

struct countersig_registry;

int countersig_registry_new(struct countersig_registry **out) __attribute__((warn_unused_result));
void countersig_registry_free(struct countersig_registry *reg);
/*
 * Add the witness.register records of a transcript (its chain is verified on
 * reading; its seal is the caller's to check). A record whose spki does not
 * hash to its spki_sha256 is refused.
 */
int countersig_registry_add(struct countersig_registry *reg, const char *transcript)
	__attribute__((warn_unused_result));
/* The same over the records transcript_verify_records kept (NULL: read again). */
int countersig_registry_add_records(struct countersig_registry *reg, const char *transcript,
				    json_t *records) __attribute__((warn_unused_result));
size_t countersig_registry_count(const struct countersig_registry *reg);

struct countersig_report {
	int count;       /* countersignatures verified */
	char roles[256]; /* "IW, KE1" */
};

/*
 * Check every TRANSCRIPT.countersig-* file: the transcript's SHA-256, the role,
 * the signer registered under that role, the signature. The first bad file is
 * named in the error. Lines go to out (may be NULL).
 */
int countersig_check_all(const char *transcript, const struct countersig_registry *reg,
			 FILE *out, struct countersig_report *rep) __attribute__((warn_unused_result));

/*
 * For transcript verify: witness keys registered in the transcript itself and,
 * when registry_dir is given, in the sealed transcripts there (each verified
 * with transcript_verify against root, or its own recorded keys when root is NULL).
 */
int countersig_verify_transcript(const char *transcript, X509 *root, const char *registry_dir,
				 FILE *out) __attribute__((warn_unused_result));

#endif

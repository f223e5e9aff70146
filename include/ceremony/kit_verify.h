/*
 * kit_verify — `backup kit verify`: a recovery kit checked offline, no HSM.
 *
 * Owns: checking that every file of the kit is listed in its MANIFEST.sha256
 * with the right hash and nothing else is there, that the manifest's CMS
 * signature chains to the kit's root certificate, that every transcript of the
 * history verifies and is sealed under that root, that the kit's blob is the
 * current backup of that history (recorded, not superseded) with its internal
 * record, and that the tool's source archive matches its SHA-256. Prints one
 * line per check; ✓ only for what was checked. Does not own: making kits (kit).
 */
#ifndef CEREMONY_KIT_VERIFY_H
#define CEREMONY_KIT_VERIFY_H

#include <stdio.h>

#include <stdint.h>

#include <openssl/x509.h>

#include "ceremony/backups.h"
#include "ceremony/sizes.h"

#define KIT_JSON "KIT.json"

/* The checks a kit's history must pass, shared by making and verifying one: every
 * transcript (*.jsonl) in history verifies and is sealed under root; the blob with
 * blob_sha256 was made by a backup record and is not superseded; the internal record
 * (if internal_sha256 is not NULL) is the one that record wrote. *made (may be NULL)
 * gets a copy of that record. Progress lines go to out (may be NULL). */
int kit_check_history(const char *history, X509 *root, const uint8_t blob_sha256[SHA256_LEN],
		      const uint8_t *internal_sha256, struct backup_made *made, FILE *out)
	__attribute__((warn_unused_result));

/* root_expected: a root.pem the verifier brought (NULL: the kit's own, whose
 * fingerprint is printed to compare with the paper record). */
int kit_verify(const char *dir, const char *root_expected, FILE *out)
	__attribute__((warn_unused_result));

#endif

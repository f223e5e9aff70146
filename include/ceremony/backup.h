/*
 * backup — the root key's backup: KEK life, shares on Key Executive cards, recovery.
 *
 * Owns: making the KEK (HSM RNG and libsodium hashed together, secure memory only), the order
 * of the backup step (validate everything, log in to every card, wrap under a
 * trusted session KEK, split with SLIP-39, seal each share to its executive's
 * passphrase, write, read back, check every share against its commitment,
 * test-combine every qualifying subset, write the blob, record, wipe),
 * recovery at a backup token (combine as soon as enough valid shares are in,
 * check the KEK commitment and blob MAC, unwrap, recreate the public key,
 * prove by a signature verified with root.pem), drills, rekeying, and the
 * card commands (show, verify, wipe). Never writes a share or the KEK
 * anywhere but sealed onto a card. Does not own: PKCS#11 templates (p11wrap),
 * the blob format (backupblob), SLIP-39 (slip39), sealing (seal).
 *
 * k and n are confidential (taxonomy draft 5.3.1): the transcript records n-k
 * ("spare_shares") and salted commitments to the parameters and to the list
 * of cards; the values and the salt go to a separate internal record file.
 */
#ifndef CEREMONY_BACKUP_H
#define CEREMONY_BACKUP_H

#include <stdio.h>

#include "ceremony/approve.h"
#include "ceremony/context.h"
#include "ceremony/seal.h"
#include "ceremony/secret.h"
#include "ceremony/shamir.h"
#include "ceremony/slip39.h"

#define BACKUP_APPLICATION "ceremony/backup-share-v1"
#define BACKUP_CARDS_MAX SLIP39_MAX_SHARES
/* Beyond this many qualifying subsets (each a Shamir interpolation, no PBKDF2), creation
 * tests a covering set instead: every group and every share takes part. */
#define BACKUP_SUBSETS_MAX 20000

struct backup_cards {
	const char *const *names;            /* token labels or pkcs11: URIs, in share order */
	size_t count;
	const char *const *pin_sources;      /* NULL, or count entries: file:PATH per card */
	const char *const *passphrase_sources; /* NULL, or count entries */
	const char *const *holders;          /* NULL, or count names of the Key Executives */
	const char *module;                  /* the cards' PKCS#11 module; NULL: the HSM's */
};

struct backup_create_params {
	const char *token;     /* the root HSM token */
	const char *key_label; /* the root key */
	int group_threshold;
	int group_count;
	struct slip39_group groups[SLIP39_MAX_GROUPS];
	struct backup_cards cards;
	const char *out_path;        /* the blob */
	const char *internal_record; /* k, n, cards: the confidential record */
	const char *supersedes;      /* rekey: the old blob, marked superseded */
	int test_cost;               /* --test-cost: seal at the test Argon2id cost (loud) */
	struct approve_opts approve; /* the quorum's approvers (docs/quorum.md) */
};

int backup_create(struct ceremony_ctx *ctx, const struct backup_create_params *p, FILE *out)
	__attribute__((warn_unused_result));

struct backup_recover_params {
	const char *token; /* the backup token */
	const char *blob_path;
	const char *root_path; /* root.pem */
	struct backup_cards cards;
	int drill;       /* destroy the reconstituted key after the proof */
	int extractable; /* keep the copy exportable under a trusted KEK */
	const char *challenge_out, *signature_out; /* optional proof files */
	int test_cost;        /* accept shares sealed at the test Argon2id cost */
	int allow_superseded; /* recover a blob a backup.rekey record superseded (recorded) */
	struct approve_opts approve;               /* the quorum's approvers */
};

int backup_recover(struct ceremony_ctx *ctx, const struct backup_recover_params *p, FILE *out)
	__attribute__((warn_unused_result));

/*
 * For tests and recovery: log in to the cards in order, open their shares of
 * the blob's backup, check each against its commitment, and once enough are
 * in, combine them into *kek (secure memory). *used gets how many cards were
 * read. Every check failure names the card and leaves nothing changed.
 */
int backup_kek_from_cards(struct ceremony_ctx *ctx, const char *blob_path,
			  const struct backup_cards *cards, int test_cost, struct secret **kek,
			  size_t *used)
	__attribute__((warn_unused_result));

/* ceremony card show / verify / wipe: the card's user PIN comes from ctx->pin_source. */
int backup_card_show(struct ceremony_ctx *ctx, const char *card, FILE *out)
	__attribute__((warn_unused_result));
int backup_card_verify(struct ceremony_ctx *ctx, const char *card, const char *blob_path,
		       const char *passphrase_source, int test_cost, FILE *out)
	__attribute__((warn_unused_result));
/*
 * The share of one backup: named by its blob (blob_path) or by its backup id
 * (backup_id, 16 hex digits, for a backup whose blob was never written, such as
 * an interrupted create that its backup.intent record names). Both NULL: every
 * share object of this tool on the card.
 */
int backup_card_wipe(struct ceremony_ctx *ctx, const char *card, const char *blob_path,
		     const char *backup_id, FILE *out) __attribute__((warn_unused_result));

/*
 * For the audit (issue 11 item 8): log in to card (PIN: ctx->pin_source or the
 * terminal) and check every backup share on it against the transcripts in
 * dir: a share of a backup that no backup.create/backup.rekey records (none at
 * all, or only its backup.intent: an interrupted backup) is flagged, with the
 * command that wipes it, and makes the result CER_E_VERIFY.
 */
int backup_card_audit(struct ceremony_ctx *ctx, const char *card, const char *dir, FILE *out)
	__attribute__((warn_unused_result));

/*
 * The Argon2id cost of this run: the test cost when test_cost (--test-cost) or the
 * site configuration says "argon2_cost: test", announced on out in capitals; else
 * production. *because names what lowered it (for the record), or NULL. Fails only
 * on a configuration that cannot be read or an argon2_cost that is neither value.
 */
int backup_seal_limits(struct ceremony_ctx *ctx, int test_cost, const char *doing, FILE *out,
		       struct seal_limits *lim, const char **because)
	__attribute__((warn_unused_result));

#endif

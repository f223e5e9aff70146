/* backup internals shared by backup.c, backup_recover.c and backup_card.c. */
#ifndef CEREMONY_BACKUP_INT_H
#define CEREMONY_BACKUP_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ceremony/approve.h"
#include "ceremony/backup.h"
#include "ceremony/backupblob.h"
#include "ceremony/p11.h"
#include "ceremony/seal.h"
#include "ceremony/sizes.h"
#include "ceremony/slip39.h"

/* How often a passphrase typed at the terminal is asked before the card is given up. */
#define BACKUP_PASSPHRASE_TRIES 3

/* One Key Executive card during a step. */
struct backup_card {
	size_t position; /* 1-based, in the order given */
	const char *name;
	const char *pin_source;        /* NULL: terminal */
	const char *passphrase_source; /* NULL: terminal */
	const char *holder;            /* NULL: the token label */
	struct p11_token token;
	struct p11_session *session;
	char what[160]; /* card 2 (token "ke2", serial 1a2b...) */
};

/* Find every card's token; refuse a card named twice or the HSM token itself. */
int backup_cards_resolve(struct p11_module *m, const struct backup_cards *in,
			 const struct p11_token *hsm, struct backup_card *out)
	__attribute__((warn_unused_result));
/* Open a session, ask the card's PIN (naming the card), log in, wipe the PIN. */
int backup_card_login(struct p11_module *m, struct backup_card *c) __attribute__((warn_unused_result));
void backup_card_logout(struct backup_card *c);

/* The share object label: "<root> backup <id hex> share <g>-<m>". */
int backup_share_label(const char *root, const uint8_t id[static BACKUPBLOB_ID_LEN],
		       unsigned group, unsigned member, char *out, size_t size)
	__attribute__((warn_unused_result));
/*
 * The clear metadata sealed with the share (JSON, authenticated as AD),
 * binding it to the card's serial and label.
 */
int backup_share_meta(const char *root, const uint8_t id[static BACKUPBLOB_ID_LEN],
		      uint16_t slip39_id, unsigned group, unsigned member, const char *holder,
		      const struct p11_token *card, char **out, size_t *len)
	__attribute__((warn_unused_result));

/*
 * On a logged-in card: find its share of blob b, open it (with key, the
 * sealing key derived at creation, when not NULL: no Argon2id run; else with
 * passphrase, or the passphrase asked now), unpack into *share (secure memory
 * the caller owns), check the SLIP-39 identifier, the card it was sealed for
 * and the share's commitment. Messages name the card.
 */
int backup_card_open_share(struct backup_card *c, const struct backupblob *b,
			   const struct seal_limits *lim, const struct secret *passphrase,
			   const struct seal_key *key, struct slip39_share *share,
			   CK_OBJECT_HANDLE *object) __attribute__((warn_unused_result));

/* Put ";  <what>" after the current message (what was left untouched). */
int backup_err_untouched(int r, const char *what);

/* Load the module named (NULL: the HSM's) for cards. */
int backup_cards_module(struct ceremony_ctx *ctx, const char *path, struct p11_module **out)
	__attribute__((warn_unused_result));

struct transcript;
json_t *backup_token_json(const struct p11_token *t);

/*
 * fn for every record of every chain-verified transcript (*.jsonl) in dir (a
 * missing dir has none); *file names the transcript being read while fn runs.
 * Stops at the first error.
 */
int backup_history_each(const char *dir, int (*fn)(void *arg, long line, json_t *rec), void *arg,
			const char **file) __attribute__((warn_unused_result));

/*
 * The quorum's approval of a backup operation (backup_quorum.c): over the
 * SHA-256 of the blob (the one about to be written, or the one recovered
 * from), before any card is touched and before the blob, a share or a
 * recovered key exists. *approval (NULL without a policy) goes into the
 * operation's record as details.quorum, which is why it must be the next
 * record appended.
 */
int backup_quorum(struct ceremony_ctx *ctx, struct transcript *tr, enum quorum_op op,
		  const uint8_t blob_sha256[SHA256_LEN], const char *what,
		  const struct approve_opts *ao, FILE *out, json_t **approval)
	__attribute__((warn_unused_result));

#endif

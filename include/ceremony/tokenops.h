/*
 * tokenops — the token's own steps: list, probe, initialise, finish a
 * half-initialised token, change a PIN, re-initialise a token this ceremony made.
 *
 * Owns: the order of each step (find the token and state its PIN rule before
 * the first prompt, check each PIN's length before anything changes, act,
 * record the transcript record, and only then report success), and what each
 * step records. Does not own: PKCS#11 calls (p11, p11probe).
 */
#ifndef CEREMONY_TOKENOPS_H
#define CEREMONY_TOKENOPS_H

#include <stdio.h>

#include "ceremony/context.h"
#include "ceremony/p11.h"

int tokenops_list(struct ceremony_ctx *ctx, FILE *out) __attribute__((warn_unused_result));
/* token NULL: every slot with a token (uninitialised ones too). Read-only; no PIN. */
int tokenops_probe(struct ceremony_ctx *ctx, const char *token, FILE *out)
	__attribute__((warn_unused_result));
/*
 * reinit 0: the first uninitialised token gets label. reinit 1: the token
 * labelled label is emptied and initialised again, only if this ceremony's
 * transcript records that it created that token (token.init).
 */
int tokenops_init(struct ceremony_ctx *ctx, const char *label, int reinit, FILE *out)
	__attribute__((warn_unused_result));
/* The SO sets the user PIN of a token that has none (an unfinished token init). */
int tokenops_set_user_pin(struct ceremony_ctx *ctx, const char *token, FILE *out)
	__attribute__((warn_unused_result));
/* C_SetPIN: so 1 for the SO PIN (a default one, CKF_SO_PIN_TO_BE_CHANGED). */
int tokenops_change_pin(struct ceremony_ctx *ctx, const char *token, int so,
			const char *new_pin_source, FILE *out) __attribute__((warn_unused_result));

/*
 * What one scripted step needs from the tokens it names, checked before step 1
 * of "ceremony run" (issue 12 item 3): args are the step's command line after
 * "ceremony" ("key", "generate", "--token", T, ...). key generate: the key type,
 * and RFC 5649 wrap unless --backup none; backup create: wrap; backup recover:
 * unwrap; witness register: a P-256 key pair. A token no earlier step has made
 * yet is judged by the module's first empty slot (same model). *m is the
 * module, loaded on first need (NULL before); free it with p11_module_free.
 * Read-only: no PIN, nothing changes.
 */
int tokenops_step_needs(struct ceremony_ctx *ctx, struct p11_module **m, const char *const *args,
			int n) __attribute__((warn_unused_result));

#endif

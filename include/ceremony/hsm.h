/*
 * hsm — one logged-in use of a token: load the module, find the token, open a
 * session, ask for the PIN, log in, wipe the PIN.
 *
 * Owns: the order of those steps and their cleanup, so every operation opens
 * and closes the HSM the same way. Does not own: what is done while logged in.
 */
#ifndef CEREMONY_HSM_H
#define CEREMONY_HSM_H

#include "ceremony/context.h"
#include "ceremony/p11.h"

struct hsm {
	struct p11_module *module;
	struct p11_session *session;
	struct p11_token token;
};

/* Load the module from ctx (no login); find token_name. */
int hsm_open(struct ceremony_ctx *ctx, const char *token_name, struct hsm *out)
	__attribute__((warn_unused_result));
/* Ask for the user PIN (ctx->pin_source or the terminal), log in, wipe the PIN. */
int hsm_login_user(struct ceremony_ctx *ctx, struct hsm *h) __attribute__((warn_unused_result));
/* Close the session (logging out); keeps the module loaded. */
void hsm_session_end(struct hsm *h);
/* Close everything; safe on a zeroed or half-opened struct. */
void hsm_close(struct hsm *h);

#endif

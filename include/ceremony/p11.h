/*
 * p11 — the PKCS#11 module, its tokens, sessions and logins, through raw Cryptoki calls.
 *
 * Owns: loading a module (dlopen + C_GetFunctionList; the path is configuration,
 * nothing here names an implementation), C_Initialize/C_Finalize, finding a token
 * by label or RFC 7512 URI (parsed by p11-kit), token initialisation, sessions,
 * login/logout, object search, random bytes, and CK_RV codes in words. This
 * module alone opens sessions and logs in (DESIGN.md "Who owns the PKCS#11
 * session"). Does not own: key templates (p11key) or OpenSSL keys (hsmkey).
 */
#ifndef CEREMONY_P11_H
#define CEREMONY_P11_H

#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

#include "ceremony/secret.h"
#include "ceremony/sizes.h"

struct p11_module;

struct p11_token {
	CK_SLOT_ID slot;
	char slot_description[SLOT_DESCRIPTION_LEN + 1];
	int present;     /* a token is in the slot */
	int initialized; /* CKF_TOKEN_INITIALIZED */
	char label[TOKEN_LABEL_LEN + 1]; /* trailing blanks removed */
	char manufacturer[33];
	char model[17];
	char serial[TOKEN_SERIAL_LEN + 1];
	CK_FLAGS flags;
	CK_ULONG min_pin_len, max_pin_len; /* ulMinPinLen, ulMaxPinLen as reported */
};

/* Opaque outside src/hsm: only this layer makes PKCS#11 calls on a session. */
struct p11_session;

int p11_module_load(const char *path, struct p11_module **out) __attribute__((warn_unused_result));
/* C_Finalize and release; NULL is fine. */
void p11_module_free(struct p11_module *m);
const char *p11_module_path(const struct p11_module *m);

/* CKR_PIN_INCORRECT -> "wrong PIN" etc. */
const char *p11_rv_str(CK_RV rv);
/* CKR_SESSION_READ_ONLY for 0xb5: every code PKCS#11 3.0 defines, by name; NULL for others. */
const char *p11_rv_name(CK_RV rv);
/* cer_err() with "what: words (CKR_X)"; returns the mapped CER_E_* code. */
int p11_err(CK_RV rv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* CKM_AES_KEY_WRAP_PAD, CKA_EXTRACTABLE, ...; "CKM 0x..." for others (static buffer-free). */
const char *p11_mech_name(CK_MECHANISM_TYPE m);
const char *p11_attr_name(CK_ATTRIBUTE_TYPE a);

/* Every slot with its token information (uninitialised tokens included). */
int p11_tokens_list(struct p11_module *m, struct p11_token **out, size_t *n)
	__attribute__((warn_unused_result));

/*
 * The one initialised token named by name: a label, or a "pkcs11:" URI
 * (token, serial, manufacturer, model attributes). Refuses no match and
 * more than one match.
 */
int p11_token_find(struct p11_module *m, const char *name, struct p11_token *out)
	__attribute__((warn_unused_result));

/*
 * The first uninitialised token (its slot's reported PIN lengths included), for
 * a new token labelled label; refuses a label an initialised token has.
 */
int p11_token_find_free(struct p11_module *m, const char *label, struct p11_token *out)
	__attribute__((warn_unused_result));

/*
 * Initialise the first uninitialised token with label, SO PIN and user PIN.
 * Checks both PINs against the token's length rule before C_InitToken, so a
 * refused PIN changes nothing. If a later step fails, the message says the
 * token is initialised but not finished ("ceremony token set-user-pin");
 * *created says whether C_InitToken succeeded.
 */
int p11_token_init(struct p11_module *m, const char *label, const struct secret *so_pin,
		   const struct secret *user_pin, struct p11_token *out, int *created)
	__attribute__((warn_unused_result));

/*
 * Finish a token whose SO PIN is set but whose user PIN is not (a C_InitToken
 * whose C_InitPIN never ran): log in as SO and set the user PIN. Refuses a
 * token whose user PIN is already set. Checks the PIN length first.
 */
int p11_token_set_user_pin(struct p11_module *m, const struct p11_token *token,
			   const struct secret *so_pin, const struct secret *user_pin)
	__attribute__((warn_unused_result));
/* C_SetPIN as who (CKU_SO or CKU_USER): old -> new. Checks the new PIN's length first. */
int p11_token_change_pin(struct p11_module *m, const struct p11_token *token, CK_USER_TYPE who,
			 const struct secret *old_pin, const struct secret *new_pin)
	__attribute__((warn_unused_result));
/*
 * C_InitToken on an already initialised token (erases every object on it):
 * only for a token that this ceremony's transcript shows it created. Keeps the
 * label. Checks the PIN lengths first.
 */
int p11_token_reinit(struct p11_module *m, const struct p11_token *token,
		     const struct secret *so_pin, const struct secret *user_pin,
		     struct p11_token *out) __attribute__((warn_unused_result));

/* The PIN rule of the token, "4 to 255 characters", for prompts. */
void p11_pin_rule(const struct p11_token *t, char *out, size_t size);
/* CER_E_PIN naming what and the rule if len is outside ulMinPinLen..ulMaxPinLen. */
int p11_pin_len_check(const struct p11_token *t, const char *what, size_t len)
	__attribute__((warn_unused_result));
/* 0 when the token flags a PIN as still to be changed (CKF_*_PIN_TO_BE_CHANGED). */
int p11_token_pins_usable(const struct p11_token *t) __attribute__((warn_unused_result));
/* Does the serial tell this token apart (not blank, not all zeros as on tpm2-pkcs11)? */
int p11_token_serial_is_unique(const struct p11_token *t);

/*
 * Is mechanism mech in the token's list (C_GetMechanismInfo), with all of the
 * flags need (CKF_GENERATE_KEY_PAIR, CKF_SIGN, CKF_WRAP, ...) and a key size
 * range that holds key_size (0: any; bits for RSA and EC; for AES either bits
 * or bytes, as modules differ)? 0 if so, else CER_E_REFUSED naming the token,
 * the mechanism and what is missing. Call it before the first prompt.
 */
int p11_mech_check(struct p11_module *m, const struct p11_token *token, CK_MECHANISM_TYPE mech,
		   CK_FLAGS need, CK_ULONG key_size) __attribute__((warn_unused_result));
/* The same on an open session's token. */
int p11_mech_supported(struct p11_session *s, CK_MECHANISM_TYPE mech, CK_FLAGS need,
		       CK_ULONG key_size) __attribute__((warn_unused_result));
/* The token's mechanism list (malloc'd) and one mechanism's info. */
int p11_mech_list(struct p11_module *m, const struct p11_token *token, CK_MECHANISM_TYPE **out,
		  size_t *n) __attribute__((warn_unused_result));
int p11_mech_info(struct p11_module *m, const struct p11_token *token, CK_MECHANISM_TYPE mech,
		  CK_MECHANISM_INFO *info) __attribute__((warn_unused_result));

/* A read-write session on token. */
int p11_session_open(struct p11_module *m, const struct p11_token *token,
		     struct p11_session **out) __attribute__((warn_unused_result));
/* Logs out if logged in, closes; NULL is fine. */
void p11_session_close(struct p11_session *s);
/* The token the session is on (label, serial, ... for messages and records). */
const struct p11_token *p11_session_token(const struct p11_session *s);
struct p11_module *p11_session_module(const struct p11_session *s);

/* C_DestroyObject; CK_INVALID_HANDLE is fine (0). what names it in the message. */
int p11_object_destroy(struct p11_session *s, CK_OBJECT_HANDLE h, const char *what)
	__attribute__((warn_unused_result));
/*
 * Cleanup after a failure: destroy h but keep the first error's message and
 * code. If the destroy fails too, the message gains "; <what> may remain on
 * token T (<reason>)". Returns 0 if h is gone (or was CK_INVALID_HANDLE),
 * else the destroy's error code; the caller's r stays the first error.
 */
int p11_object_destroy_keep_error(struct p11_session *s, CK_OBJECT_HANDLE h, const char *what);
/* C_DestroyObject's own answer, the error message untouched (CKR_OK for CK_INVALID_HANDLE). */
CK_RV p11_object_destroy_rv(struct p11_session *s, CK_OBJECT_HANDLE h);
/*
 * Close without C_Logout: a token's login is shared by all of the process's
 * sessions on it, and another one (a backup's card session) may still need it.
 */
void p11_session_close_shared(struct p11_session *s);

/* C_Login as CKU_USER or CKU_SO; the caller wipes the PIN right after. */
int p11_login(struct p11_session *s, CK_USER_TYPE who, const struct secret *pin)
	__attribute__((warn_unused_result));
/* p11_login; on a wrong PIN *may_retry says whether another try is safe (the token is
 * neither locked nor at its final try). */
int p11_login_retryable(struct p11_session *s, CK_USER_TYPE who, const struct secret *pin,
			int *may_retry) __attribute__((warn_unused_result));
/* Read the PIN (source, or the terminal with prompt what), log in, wipe it; a wrong PIN
 * typed at the terminal is asked again, up to SECRET_ENTRY_TRIES, unless the token is at
 * its final try. */
int p11_login_asking(struct p11_session *s, CK_USER_TYPE who, const char *source,
		     const char *what) __attribute__((warn_unused_result));
int p11_logout(struct p11_session *s);

/* Up to max handles of objects matching the template. */
int p11_objects_find(struct p11_session *s, CK_ATTRIBUTE *tmpl, CK_ULONG count,
		     CK_OBJECT_HANDLE *handles, size_t max, size_t *n)
	__attribute__((warn_unused_result));

/* Read one variable-length attribute into a malloc'd buffer. */
int p11_attr_get(struct p11_session *s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
		 uint8_t **out, size_t *len) __attribute__((warn_unused_result));
/* Read a CK_BBOOL attribute; *value is -1 when the token does not have it. */
int p11_attr_bool(struct p11_session *s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
		  int *value) __attribute__((warn_unused_result));
int p11_attr_ulong(struct p11_session *s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
		   CK_ULONG *value) __attribute__((warn_unused_result));

/* len random bytes from the token's RNG. */
int p11_random(struct p11_session *s, uint8_t *buf, size_t len)
	__attribute__((warn_unused_result));
/*
 * len bytes hashed (BLAKE2b, secret_random_mix) from the token's RNG and
 * libsodium's, so neither a weak HSM RNG nor a weak host RNG alone decides
 * them (KEKs, serials, key IDs, challenges). A token whose RNG returns zeros
 * or repeated blocks is refused. buf may be secure memory; both sources'
 * bytes pass only through secure memory.
 */
int p11_random_mixed(struct p11_session *s, uint8_t *buf, size_t len)
	__attribute__((warn_unused_result));

/* Serial digits as text, for messages: "root-hsm (serial 5d1c...)" */
void p11_token_describe(const struct p11_token *t, char *out, size_t size);

#endif

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

struct p11_module;

struct p11_token {
	CK_SLOT_ID slot;
	char slot_description[65];
	int present;     /* a token is in the slot */
	int initialized; /* CKF_TOKEN_INITIALIZED */
	char label[33];  /* trailing blanks removed */
	char manufacturer[33];
	char model[17];
	char serial[17];
	CK_FLAGS flags;
};

struct p11_session {
	struct p11_module *module;
	CK_FUNCTION_LIST_PTR f;
	CK_SESSION_HANDLE handle;
	struct p11_token token;
	CK_USER_TYPE logged_in_as; /* (CK_USER_TYPE)-1 when logged out */
};

int p11_module_load(const char *path, struct p11_module **out) __attribute__((warn_unused_result));
/* C_Finalize and release; NULL is fine. */
void p11_module_free(struct p11_module *m);
const char *p11_module_path(const struct p11_module *m);
CK_FUNCTION_LIST_PTR p11_module_functions(struct p11_module *m);

/* CKR_PIN_INCORRECT -> "wrong PIN" etc. */
const char *p11_rv_str(CK_RV rv);
/* CKR_DEVICE_REMOVED -> "CKR_DEVICE_REMOVED"; NULL for a code not in the table. */
const char *p11_rv_name(CK_RV rv);
/* cer_err() with "what: words (CKR_X)"; returns the mapped CER_E_* code. */
int p11_err(CK_RV rv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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

/* Initialise the first uninitialised token with label, SO PIN and user PIN. */
int p11_token_init(struct p11_module *m, const char *label, const struct secret *so_pin,
		   const struct secret *user_pin, struct p11_token *out)
	__attribute__((warn_unused_result));

/* A read-write session on token. */
int p11_session_open(struct p11_module *m, const struct p11_token *token,
		     struct p11_session **out) __attribute__((warn_unused_result));
/* Logs out if logged in, closes; NULL is fine. */
void p11_session_close(struct p11_session *s);

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

/*
 * p11_int — the PKCS#11 session's inside, for the HSM layer's own modules
 * (p11, p11key, p11wrap, hsmkey) and their unit tests only. Everything above
 * this layer holds a struct p11_session * it cannot look into.
 */
#ifndef CEREMONY_P11_INT_H
#define CEREMONY_P11_INT_H

#include "ceremony/p11.h"

struct p11_session {
	struct p11_module *module;
	CK_FUNCTION_LIST_PTR f;
	CK_SESSION_HANDLE handle;
	struct p11_token token;
	CK_USER_TYPE logged_in_as; /* (CK_USER_TYPE)-1 when logged out */
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

CK_FUNCTION_LIST_PTR p11_module_functions(struct p11_module *m);
/*
 * C_CreateObject from template t of n attributes; on failure *out is
 * CK_INVALID_HANDLE and the message is fmt's words and the module's code (p11_err).
 */
int p11_object_create(struct p11_session *s, CK_ATTRIBUTE *t, size_t n, CK_OBJECT_HANDLE *out,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)))
	__attribute__((warn_unused_result));

#endif

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

CK_FUNCTION_LIST_PTR p11_module_functions(struct p11_module *m);

#endif

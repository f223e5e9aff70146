/*
 * faultp11 — a PKCS#11 module for tests that forwards every call to a real
 * module (SoftHSM2) and fails one chosen call, or simulates token removal.
 *
 * Owns: counting calls, failing the Nth one (or the Nth call of one named
 * function) with a chosen CKR_ code, "removing" the token from a chosen call on
 * (CKR_DEVICE_REMOVED / CKR_TOKEN_NOT_PRESENT for every later call), and an
 * optional trace of every call. Does not own: any PKCS#11 behaviour of its own;
 * everything else is the real module's answer.
 *
 * Configuration, from the environment or from the file named by FAULTP11_CONF
 * ("key = value" lines, keys in lower case without the prefix; the environment
 * wins):
 *   FAULTP11_MODULE  the real module (required)
 *   FAULTP11_FAIL    N: fail the Nth counted call (1-based); 0 or unset: none
 *   FAULTP11_FUNC    count only calls of this function (e.g. C_Sign)
 *   FAULTP11_RV      the code to return: a CKR_ name or a number (CKR_DEVICE_ERROR)
 *   FAULTP11_REMOVE  1: from the Nth call on, the token is gone
 *   FAULTP11_CORRUPT 1: the Nth call does not fail: it is forwarded and, if it is a
 *                    C_GetAttributeValue, the last byte of every value it returns
 *                    is flipped and CKR_OK returned (a token that answers wrongly
 *                    once); use with FAULTP11_FUNC=C_GetAttributeValue
 *   FAULTP11_TRACE   append "N C_Name rv" for every call to this file
 *   FAULTP11_TOKEN_FLAGS  a number OR-ed into every initialised token's flags
 *                    (C_GetTokenInfo), to play a module that reports, say,
 *                    CKF_SO_PIN_TO_BE_CHANGED (0x00800000) as openCryptoki does
 * C_GetFunctionList, C_Initialize, C_Finalize and C_GetInfo are never failed
 * (they are the library, not the token) and not counted.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

static struct {
	pthread_mutex_t lock;
	int loaded;
	void *dl;
	CK_FUNCTION_LIST_PTR real;
	unsigned long fail_at;
	char func[64];
	CK_RV rv;
	int remove;
	int removed;
	int corrupt;     /* FAULTP11_CORRUPT */
	int corrupt_now; /* the chosen call is running: corrupt its answer */
	unsigned long count; /* counted calls so far */
	unsigned long seq;   /* every call, for the trace */
	FILE *trace;
} st = {.lock = PTHREAD_MUTEX_INITIALIZER, .rv = CKR_DEVICE_ERROR};

static const struct {
	const char *name;
	CK_RV rv;
} rv_names[] = {
	{"CKR_GENERAL_ERROR", CKR_GENERAL_ERROR},
	{"CKR_HOST_MEMORY", CKR_HOST_MEMORY},
	{"CKR_FUNCTION_FAILED", CKR_FUNCTION_FAILED},
	{"CKR_DEVICE_ERROR", CKR_DEVICE_ERROR},
	{"CKR_DEVICE_MEMORY", CKR_DEVICE_MEMORY},
	{"CKR_DEVICE_REMOVED", CKR_DEVICE_REMOVED},
	{"CKR_TOKEN_NOT_PRESENT", CKR_TOKEN_NOT_PRESENT},
	{"CKR_SESSION_HANDLE_INVALID", CKR_SESSION_HANDLE_INVALID},
	{"CKR_SESSION_CLOSED", CKR_SESSION_CLOSED},
	{"CKR_OBJECT_HANDLE_INVALID", CKR_OBJECT_HANDLE_INVALID},
	{"CKR_PIN_INCORRECT", CKR_PIN_INCORRECT},
	{"CKR_USER_NOT_LOGGED_IN", CKR_USER_NOT_LOGGED_IN},
};

/* The value of key: the environment first, then the configuration file. */
static const char *conf_get(const char *key, char *buf, size_t size)
{
	char envname[64], line[1024], want[64];
	const char *v, *path;
	FILE *f;
	size_t i;

	snprintf(envname, sizeof(envname), "FAULTP11_%s", key);
	if ((v = getenv(envname)) != NULL)
		return v;
	if ((path = getenv("FAULTP11_CONF")) == NULL || (f = fopen(path, "r")) == NULL)
		return NULL;
	for (i = 0; key[i] != '\0' && i + 1 < sizeof(want); i++)
		want[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ? key[i] - 'A' + 'a' : key[i]);
	want[i] = '\0';
	v = NULL;
	while (v == NULL && fgets(line, sizeof(line), f) != NULL) {
		char *k = line, *eq = strchr(line, '='), *val, *end;
		if (eq == NULL || line[0] == '#')
			continue;
		*eq = '\0';
		while (*k == ' ' || *k == '\t')
			k++;
		for (end = eq; end > k && (end[-1] == ' ' || end[-1] == '\t'); end--)
			end[-1] = '\0';
		if (strcmp(k, want) != 0)
			continue;
		for (val = eq + 1; *val == ' ' || *val == '\t'; val++)
			;
		val[strcspn(val, "\r\n")] = '\0';
		snprintf(buf, size, "%s", val);
		v = buf;
	}
	fclose(f);
	return v;
}

static CK_RV rv_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(rv_names) / sizeof(rv_names[0]); i++)
		if (strcmp(s, rv_names[i].name) == 0)
			return rv_names[i].rv;
	return (CK_RV)strtoul(s, NULL, 0);
}

static const char *rv_name(CK_RV rv)
{
	for (size_t i = 0; i < sizeof(rv_names) / sizeof(rv_names[0]); i++)
		if (rv_names[i].rv == rv)
			return rv_names[i].name;
	return rv == CKR_OK ? "CKR_OK" : "other";
}

/* Load the configuration and the real module once. */
static CK_RV setup(void)
{
	char buf[1024];
	const char *v;
	CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);
	CK_RV rv = CKR_OK;

	pthread_mutex_lock(&st.lock);
	if (st.loaded)
		goto out;
	if ((v = conf_get("MODULE", buf, sizeof(buf))) == NULL) {
		fprintf(stderr, "faultp11: FAULTP11_MODULE is not set\n");
		rv = CKR_GENERAL_ERROR;
		goto out;
	}
	if ((st.dl = dlopen(v, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "faultp11: %s\n", dlerror());
		rv = CKR_GENERAL_ERROR;
		goto out;
	}
	*(void **)&get = dlsym(st.dl, "C_GetFunctionList");
	if (get == NULL || (rv = get(&st.real)) != CKR_OK) {
		fprintf(stderr, "faultp11: %s has no usable C_GetFunctionList\n", v);
		rv = CKR_GENERAL_ERROR;
		goto out;
	}
	if ((v = conf_get("FAIL", buf, sizeof(buf))) != NULL)
		st.fail_at = strtoul(v, NULL, 10);
	if ((v = conf_get("FUNC", buf, sizeof(buf))) != NULL)
		snprintf(st.func, sizeof(st.func), "%s", v);
	if ((v = conf_get("RV", buf, sizeof(buf))) != NULL)
		st.rv = rv_parse(v);
	if ((v = conf_get("REMOVE", buf, sizeof(buf))) != NULL)
		st.remove = strcmp(v, "1") == 0;
	if ((v = conf_get("CORRUPT", buf, sizeof(buf))) != NULL)
		st.corrupt = strcmp(v, "1") == 0;
	if ((v = conf_get("TRACE", buf, sizeof(buf))) != NULL && *v != '\0') {
		st.trace = fopen(v, "a");
		if (st.trace != NULL)
			setvbuf(st.trace, NULL, _IOLBF, 0);
	}
	st.loaded = 1;
out:
	pthread_mutex_unlock(&st.lock);
	return rv;
}

enum scope { SCOPE_LIBRARY, SCOPE_SLOT, SCOPE_SESSION };

/* CKR_OK to forward the call, or the fault to return instead. */
static CK_RV fault(const char *name, enum scope scope)
{
	CK_RV rv = CKR_OK;

	if (scope == SCOPE_LIBRARY)
		return CKR_OK;
	pthread_mutex_lock(&st.lock);
	st.seq++;
	if (st.func[0] == '\0' || strcmp(st.func, name) == 0) {
		st.count++;
		if (st.fail_at != 0 && st.count == st.fail_at) {
			if (st.remove)
				st.removed = 1;
			else if (st.corrupt)
				st.corrupt_now = 1;
			else
				rv = st.rv;
		}
	}
	if (st.removed)
		rv = scope == SCOPE_SLOT ? CKR_TOKEN_NOT_PRESENT : CKR_DEVICE_REMOVED;
	if (st.trace != NULL)
		fprintf(st.trace, "%lu %s %s\n", st.seq, name,
			rv != CKR_OK ? rv_name(rv) : st.corrupt_now ? "corrupted" : "forwarded");
	pthread_mutex_unlock(&st.lock);
	return rv;
}

#define FORWARD(scope, name, params, args)                                                    \
	static CK_RV w_##name params                                                          \
	{                                                                                     \
		CK_RV rv;                                                                     \
		if ((rv = setup()) != CKR_OK || (rv = fault(#name, scope)) != CKR_OK)         \
			return rv;                                                            \
		return st.real->name args;                                                    \
	}

FORWARD(SCOPE_LIBRARY, C_Initialize, (void *a), (a))
FORWARD(SCOPE_LIBRARY, C_Finalize, (void *a), (a))
FORWARD(SCOPE_LIBRARY, C_GetInfo, (CK_INFO_PTR a), (a))
FORWARD(SCOPE_SLOT, C_GetSlotList, (CK_BBOOL a, CK_SLOT_ID_PTR b, CK_ULONG_PTR c), (a, b, c))
/* Forwarded, then FAULTP11_TOKEN_FLAGS added to an initialised token's flags. */
static CK_RV w_C_GetTokenInfo(CK_SLOT_ID a, CK_TOKEN_INFO_PTR b)
{
	char buf[64];
	const char *v;
	CK_RV rv;

	if ((rv = setup()) != CKR_OK || (rv = fault("C_GetTokenInfo", SCOPE_SLOT)) != CKR_OK)
		return rv;
	if ((rv = st.real->C_GetTokenInfo(a, b)) != CKR_OK)
		return rv;
	if ((b->flags & CKF_TOKEN_INITIALIZED) &&
	    (v = conf_get("TOKEN_FLAGS", buf, sizeof(buf))) != NULL)
		b->flags |= (CK_FLAGS)strtoul(v, NULL, 0);
	return CKR_OK;
}
FORWARD(SCOPE_SLOT, C_WaitForSlotEvent, (CK_FLAGS a, CK_SLOT_ID_PTR b, void *c), (a, b, c))
FORWARD(SCOPE_SLOT, C_GetMechanismList, (CK_SLOT_ID a, CK_MECHANISM_TYPE_PTR b, CK_ULONG_PTR c),
	(a, b, c))
FORWARD(SCOPE_SLOT, C_GetMechanismInfo, (CK_SLOT_ID a, CK_MECHANISM_TYPE b, CK_MECHANISM_INFO_PTR c),
	(a, b, c))
FORWARD(SCOPE_SLOT, C_InitToken, (CK_SLOT_ID a, CK_UTF8CHAR_PTR b, CK_ULONG c, CK_UTF8CHAR_PTR d),
	(a, b, c, d))
FORWARD(SCOPE_SESSION, C_InitPIN, (CK_SESSION_HANDLE a, CK_UTF8CHAR_PTR b, CK_ULONG c), (a, b, c))
FORWARD(SCOPE_SESSION, C_SetPIN,
	(CK_SESSION_HANDLE a, CK_UTF8CHAR_PTR b, CK_ULONG c, CK_UTF8CHAR_PTR d, CK_ULONG e),
	(a, b, c, d, e))
FORWARD(SCOPE_SLOT, C_OpenSession,
	(CK_SLOT_ID a, CK_FLAGS b, void *c, CK_NOTIFY d, CK_SESSION_HANDLE_PTR e), (a, b, c, d, e))
FORWARD(SCOPE_SESSION, C_CloseSession, (CK_SESSION_HANDLE a), (a))
FORWARD(SCOPE_SLOT, C_CloseAllSessions, (CK_SLOT_ID a), (a))
FORWARD(SCOPE_SESSION, C_GetSessionInfo, (CK_SESSION_HANDLE a, CK_SESSION_INFO_PTR b), (a, b))
FORWARD(SCOPE_SESSION, C_GetOperationState, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c),
	(a, b, c))
FORWARD(SCOPE_SESSION, C_SetOperationState,
	(CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_OBJECT_HANDLE d, CK_OBJECT_HANDLE e),
	(a, b, c, d, e))
FORWARD(SCOPE_SESSION, C_Login, (CK_SESSION_HANDLE a, CK_USER_TYPE b, CK_UTF8CHAR_PTR c, CK_ULONG d),
	(a, b, c, d))
FORWARD(SCOPE_SESSION, C_Logout, (CK_SESSION_HANDLE a), (a))
FORWARD(SCOPE_SESSION, C_CreateObject,
	(CK_SESSION_HANDLE a, CK_ATTRIBUTE_PTR b, CK_ULONG c, CK_OBJECT_HANDLE_PTR d), (a, b, c, d))
FORWARD(SCOPE_SESSION, C_CopyObject,
	(CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c, CK_ULONG d,
	 CK_OBJECT_HANDLE_PTR e),
	(a, b, c, d, e))
FORWARD(SCOPE_SESSION, C_DestroyObject, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b), (a, b))
FORWARD(SCOPE_SESSION, C_GetObjectSize, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ULONG_PTR c),
	(a, b, c))
/* Forwarded; with FAULTP11_CORRUPT, the chosen call's values come back with their last byte flipped. */
static CK_RV w_C_GetAttributeValue(CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c,
				   CK_ULONG d)
{
	CK_RV rv;
	int corrupt;

	if ((rv = setup()) != CKR_OK || (rv = fault("C_GetAttributeValue", SCOPE_SESSION)) != CKR_OK)
		return rv;
	pthread_mutex_lock(&st.lock);
	corrupt = st.corrupt_now;
	st.corrupt_now = 0;
	pthread_mutex_unlock(&st.lock);
	rv = st.real->C_GetAttributeValue(a, b, c, d);
	if (corrupt && rv == CKR_OK)
		for (CK_ULONG i = 0; i < d; i++)
			if (c[i].pValue != NULL && c[i].ulValueLen != CK_UNAVAILABLE_INFORMATION &&
			    c[i].ulValueLen > 0)
				((CK_BYTE *)c[i].pValue)[c[i].ulValueLen - 1] ^= 0x01;
	return rv;
}
FORWARD(SCOPE_SESSION, C_SetAttributeValue,
	(CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c, CK_ULONG d), (a, b, c, d))
FORWARD(SCOPE_SESSION, C_FindObjectsInit, (CK_SESSION_HANDLE a, CK_ATTRIBUTE_PTR b, CK_ULONG c),
	(a, b, c))
FORWARD(SCOPE_SESSION, C_FindObjects,
	(CK_SESSION_HANDLE a, CK_OBJECT_HANDLE_PTR b, CK_ULONG c, CK_ULONG_PTR d), (a, b, c, d))
FORWARD(SCOPE_SESSION, C_FindObjectsFinal, (CK_SESSION_HANDLE a), (a))
FORWARD(SCOPE_SESSION, C_EncryptInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c),
	(a, b, c))
FORWARD(SCOPE_SESSION, C_Encrypt,
	(CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	(a, b, c, d, e))
FORWARD(SCOPE_SESSION, C_EncryptUpdate,
	(CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	(a, b, c, d, e))
FORWARD(SCOPE_SESSION, C_EncryptFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c),
	(a, b, c))
FORWARD(SCOPE_SESSION, C_DecryptInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c),
	(a, b, c))
FORWARD(SCOPE_SESSION, C_Decrypt,
	(CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	(a, b, c, d, e))
FORWARD(SCOPE_SESSION, C_DecryptUpdate,
	(CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	(a, b, c, d, e))
FORWARD(SCOPE_SESSION, C_DecryptFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c),
	(a, b, c))
FORWARD(SCOPE_SESSION, C_DigestInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b), (a, b))
FORWARD(SCOPE_SESSION, C_Digest,
	(CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	(a, b, c, d, e))
FORWARD(SCOPE_SESSION, C_DigestUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c), (a, b, c))
FORWARD(SCOPE_SESSION, C_DigestKey, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b), (a, b))
FORWARD(SCOPE_SESSION, C_DigestFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c),
	(a, b, c))
FORWARD(SCOPE_SESSION, C_SignInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c),
	(a, b, c))
FORWARD(SCOPE_SESSION, C_Sign,
	(CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	(a, b, c, d, e))
FORWARD(SCOPE_SESSION, C_SignUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c), (a, b, c))
FORWARD(SCOPE_SESSION, C_SignFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c), (a, b, c))
FORWARD(SCOPE_SESSION, C_SignRecoverInit,
	(CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c), (a, b, c))
FORWARD(SCOPE_SESSION, C_SignRecover,
	(CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	(a, b, c, d, e))
FORWARD(SCOPE_SESSION, C_VerifyInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c),
	(a, b, c))
FORWARD(SCOPE_SESSION, C_Verify,
	(CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG e), (a, b, c, d, e))
FORWARD(SCOPE_SESSION, C_VerifyUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c), (a, b, c))
FORWARD(SCOPE_SESSION, C_VerifyFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c), (a, b, c))
FORWARD(SCOPE_SESSION, C_VerifyRecoverInit,
	(CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c), (a, b, c))
FORWARD(SCOPE_SESSION, C_VerifyRecover,
	(CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	(a, b, c, d, e))
FORWARD(SCOPE_SESSION, C_DigestEncryptUpdate,
	(CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	(a, b, c, d, e))
FORWARD(SCOPE_SESSION, C_DecryptDigestUpdate,
	(CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	(a, b, c, d, e))
FORWARD(SCOPE_SESSION, C_SignEncryptUpdate,
	(CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	(a, b, c, d, e))
FORWARD(SCOPE_SESSION, C_DecryptVerifyUpdate,
	(CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	(a, b, c, d, e))
FORWARD(SCOPE_SESSION, C_GenerateKey,
	(CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_ATTRIBUTE_PTR c, CK_ULONG d,
	 CK_OBJECT_HANDLE_PTR e),
	(a, b, c, d, e))
FORWARD(SCOPE_SESSION, C_GenerateKeyPair,
	(CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_ATTRIBUTE_PTR c, CK_ULONG d, CK_ATTRIBUTE_PTR e,
	 CK_ULONG f, CK_OBJECT_HANDLE_PTR g, CK_OBJECT_HANDLE_PTR h),
	(a, b, c, d, e, f, g, h))
FORWARD(SCOPE_SESSION, C_WrapKey,
	(CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c, CK_OBJECT_HANDLE d,
	 CK_BYTE_PTR e, CK_ULONG_PTR f),
	(a, b, c, d, e, f))
FORWARD(SCOPE_SESSION, C_UnwrapKey,
	(CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c, CK_BYTE_PTR d, CK_ULONG e,
	 CK_ATTRIBUTE_PTR f, CK_ULONG g, CK_OBJECT_HANDLE_PTR h),
	(a, b, c, d, e, f, g, h))
FORWARD(SCOPE_SESSION, C_DeriveKey,
	(CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c, CK_ATTRIBUTE_PTR d, CK_ULONG e,
	 CK_OBJECT_HANDLE_PTR f),
	(a, b, c, d, e, f))
FORWARD(SCOPE_SESSION, C_SeedRandom, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c), (a, b, c))
FORWARD(SCOPE_SESSION, C_GenerateRandom, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c),
	(a, b, c))
FORWARD(SCOPE_SESSION, C_GetFunctionStatus, (CK_SESSION_HANDLE a), (a))
FORWARD(SCOPE_SESSION, C_CancelFunction, (CK_SESSION_HANDLE a), (a))

/* A removed token's slot stays, without its token. */
static CK_RV w_C_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
	CK_RV rv;

	if ((rv = setup()) != CKR_OK || (rv = fault("C_GetSlotInfo", SCOPE_SLOT)) != CKR_OK) {
		if (rv != CKR_TOKEN_NOT_PRESENT || !st.removed)
			return rv;
		if ((rv = st.real->C_GetSlotInfo(slot, info)) == CKR_OK)
			info->flags &= ~(CK_FLAGS)CKF_TOKEN_PRESENT;
		return rv;
	}
	return st.real->C_GetSlotInfo(slot, info);
}

static CK_RV w_C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

static CK_FUNCTION_LIST functions = {
	.version = {2, 20},
	.C_Initialize = w_C_Initialize,
	.C_Finalize = w_C_Finalize,
	.C_GetInfo = w_C_GetInfo,
	.C_GetFunctionList = w_C_GetFunctionList,
	.C_GetSlotList = w_C_GetSlotList,
	.C_GetSlotInfo = w_C_GetSlotInfo,
	.C_GetTokenInfo = w_C_GetTokenInfo,
	.C_GetMechanismList = w_C_GetMechanismList,
	.C_GetMechanismInfo = w_C_GetMechanismInfo,
	.C_InitToken = w_C_InitToken,
	.C_InitPIN = w_C_InitPIN,
	.C_SetPIN = w_C_SetPIN,
	.C_OpenSession = w_C_OpenSession,
	.C_CloseSession = w_C_CloseSession,
	.C_CloseAllSessions = w_C_CloseAllSessions,
	.C_GetSessionInfo = w_C_GetSessionInfo,
	.C_GetOperationState = w_C_GetOperationState,
	.C_SetOperationState = w_C_SetOperationState,
	.C_Login = w_C_Login,
	.C_Logout = w_C_Logout,
	.C_CreateObject = w_C_CreateObject,
	.C_CopyObject = w_C_CopyObject,
	.C_DestroyObject = w_C_DestroyObject,
	.C_GetObjectSize = w_C_GetObjectSize,
	.C_GetAttributeValue = w_C_GetAttributeValue,
	.C_SetAttributeValue = w_C_SetAttributeValue,
	.C_FindObjectsInit = w_C_FindObjectsInit,
	.C_FindObjects = w_C_FindObjects,
	.C_FindObjectsFinal = w_C_FindObjectsFinal,
	.C_EncryptInit = w_C_EncryptInit,
	.C_Encrypt = w_C_Encrypt,
	.C_EncryptUpdate = w_C_EncryptUpdate,
	.C_EncryptFinal = w_C_EncryptFinal,
	.C_DecryptInit = w_C_DecryptInit,
	.C_Decrypt = w_C_Decrypt,
	.C_DecryptUpdate = w_C_DecryptUpdate,
	.C_DecryptFinal = w_C_DecryptFinal,
	.C_DigestInit = w_C_DigestInit,
	.C_Digest = w_C_Digest,
	.C_DigestUpdate = w_C_DigestUpdate,
	.C_DigestKey = w_C_DigestKey,
	.C_DigestFinal = w_C_DigestFinal,
	.C_SignInit = w_C_SignInit,
	.C_Sign = w_C_Sign,
	.C_SignUpdate = w_C_SignUpdate,
	.C_SignFinal = w_C_SignFinal,
	.C_SignRecoverInit = w_C_SignRecoverInit,
	.C_SignRecover = w_C_SignRecover,
	.C_VerifyInit = w_C_VerifyInit,
	.C_Verify = w_C_Verify,
	.C_VerifyUpdate = w_C_VerifyUpdate,
	.C_VerifyFinal = w_C_VerifyFinal,
	.C_VerifyRecoverInit = w_C_VerifyRecoverInit,
	.C_VerifyRecover = w_C_VerifyRecover,
	.C_DigestEncryptUpdate = w_C_DigestEncryptUpdate,
	.C_DecryptDigestUpdate = w_C_DecryptDigestUpdate,
	.C_SignEncryptUpdate = w_C_SignEncryptUpdate,
	.C_DecryptVerifyUpdate = w_C_DecryptVerifyUpdate,
	.C_GenerateKey = w_C_GenerateKey,
	.C_GenerateKeyPair = w_C_GenerateKeyPair,
	.C_WrapKey = w_C_WrapKey,
	.C_UnwrapKey = w_C_UnwrapKey,
	.C_DeriveKey = w_C_DeriveKey,
	.C_SeedRandom = w_C_SeedRandom,
	.C_GenerateRandom = w_C_GenerateRandom,
	.C_GetFunctionStatus = w_C_GetFunctionStatus,
	.C_CancelFunction = w_C_CancelFunction,
	.C_WaitForSlotEvent = w_C_WaitForSlotEvent,
};

static CK_RV w_C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	CK_RV rv;

	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	if ((rv = setup()) != CKR_OK)
		return rv;
	*list = &functions;
	return CKR_OK;
}

__attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	return w_C_GetFunctionList(list);
}

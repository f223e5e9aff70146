#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/uri.h>

#include "ceremony/err.h"
#include "ceremony/p11.h"
#include "ceremony/sizes.h"
#include "p11_int.h"

#define P11_MAX_SLOTS 256

struct p11_module {
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	int initialized_by_us;
	char path[PATH_MAX];
};

static const struct {
	CK_RV rv;
	const char *name;
	const char *words;
	int code;
} p11_rv_table[] = {
	{CKR_OK, "CKR_OK", "success", CER_OK},
	{CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT", "wrong PIN", CER_E_PIN},
	{CKR_PIN_INVALID, "CKR_PIN_INVALID", "PIN has invalid characters", CER_E_PIN},
	{CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE", "PIN too short or too long", CER_E_PIN},
	{CKR_PIN_LOCKED, "CKR_PIN_LOCKED", "PIN locked", CER_E_PIN},
	{CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED", "PIN expired", CER_E_PIN},
	{CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN", "not logged in", CER_E_P11},
	{CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN", "already logged in", CER_E_P11},
	{CKR_USER_ANOTHER_ALREADY_LOGGED_IN, "CKR_USER_ANOTHER_ALREADY_LOGGED_IN",
	 "another user is logged in", CER_E_P11},
	{CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED", "user PIN not set",
	 CER_E_P11},
	{CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT", "no token in the slot", CER_E_NOTFOUND},
	{CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED", "token not recognised", CER_E_P11},
	{CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED", "token is write-protected",
	 CER_E_P11},
	{CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID", "no such slot", CER_E_NOTFOUND},
	{CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID", "session closed", CER_E_P11},
	{CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID", "object not found",
	 CER_E_NOTFOUND},
	{CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID", "key not found", CER_E_NOTFOUND},
	{CKR_KEY_NOT_WRAPPABLE, "CKR_KEY_NOT_WRAPPABLE",
	 "key may only be wrapped by a trusted key", CER_E_REFUSED},
	{CKR_KEY_UNEXTRACTABLE, "CKR_KEY_UNEXTRACTABLE", "key is not extractable", CER_E_REFUSED},
	{CKR_ATTRIBUTE_READ_ONLY, "CKR_ATTRIBUTE_READ_ONLY", "attribute is read-only",
	 CER_E_REFUSED},
	{CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID", "attribute not supported",
	 CER_E_P11},
	{CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID", "attribute value refused",
	 CER_E_P11},
	{CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE", "attribute is sensitive",
	 CER_E_REFUSED},
	{CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT", "template inconsistent",
	 CER_E_P11},
	{CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE", "template incomplete", CER_E_P11},
	{CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID", "mechanism not supported", CER_E_P11},
	{CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID", "mechanism parameter refused",
	 CER_E_P11},
	{CKR_WRAPPED_KEY_INVALID, "CKR_WRAPPED_KEY_INVALID", "wrapped key damaged", CER_E_VERIFY},
	{CKR_SIGNATURE_INVALID, "CKR_SIGNATURE_INVALID", "signature invalid", CER_E_VERIFY},
	{CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY", "token memory full", CER_E_P11},
	{CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR", "device error", CER_E_P11},
	{CKR_HOST_MEMORY, "CKR_HOST_MEMORY", "out of host memory", CER_E_NOMEM},
	{CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR", "general error", CER_E_P11},
	{CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED", "function failed", CER_E_P11},
	{CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD", "bad arguments", CER_E_INTERNAL},
	{CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL", "buffer too small", CER_E_INTERNAL},
	{CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED", "module not initialised",
	 CER_E_INTERNAL},
	{CKR_SESSION_READ_ONLY_EXISTS, "CKR_SESSION_READ_ONLY_EXISTS",
	 "a read-only session is open", CER_E_P11},
	{CKR_SESSION_EXISTS, "CKR_SESSION_EXISTS", "a session is open", CER_E_P11},
	{CKR_OPERATION_NOT_INITIALIZED, "CKR_OPERATION_NOT_INITIALIZED", "operation not started",
	 CER_E_INTERNAL},
	{CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE", "data length out of range", CER_E_INPUT},
	{CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT", "wrong key type for mechanism",
	 CER_E_P11},
	{CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED",
	 "key may not be used that way", CER_E_REFUSED},
	{CKR_RANDOM_NO_RNG, "CKR_RANDOM_NO_RNG", "token has no RNG", CER_E_P11},
	{CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED", "token removed", CER_E_P11},
	{CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED", "session closed", CER_E_P11},
	{CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE", "another operation is active", CER_E_P11},
	{CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY", "the session is read-only", CER_E_P11},
	{CKR_KEY_SIZE_RANGE, "CKR_KEY_SIZE_RANGE", "key size not supported", CER_E_P11},
	{CKR_CURVE_NOT_SUPPORTED, "CKR_CURVE_NOT_SUPPORTED", "curve not supported", CER_E_P11},
	{CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED",
	 "the module does not implement this function", CER_E_P11},
	{CKR_PIN_TOO_WEAK, "CKR_PIN_TOO_WEAK", "PIN too weak", CER_E_PIN},
	{CKR_ACTION_PROHIBITED, "CKR_ACTION_PROHIBITED", "the token's policy forbids it",
	 CER_E_REFUSED},
};

/* A PKCS#11 constant (CKR_, CKM_, CKA_ or CKF_) and its name. */
struct p11_name {
	CK_ULONG v;
	const char *name;
};

/* The name of v in table t, or otherwise. */
static const char *p11_name_find(const struct p11_name *t, size_t n, CK_ULONG v,
				 const char *otherwise)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].v == v)
			return t[i].name;
	return otherwise;
}

/* Every code's name, for codes without words above (p11_rv_names.inc). */
static const struct p11_name p11_rv_names[] = {
#define X(name) {name, #name},
#include "p11_rv_names.inc"
#undef X
};

const char *p11_rv_name(CK_RV rv)
{
	return p11_name_find(p11_rv_names, ARRAY_LEN(p11_rv_names), rv, NULL);
}

/* The name, or for a vendor or undefined code words built in buf. */
static const char *p11_rv_name_any(CK_RV rv, char *buf, size_t size)
{
	const char *name = p11_rv_name(rv);

	if (name != NULL)
		return name;
	if (rv & CKR_VENDOR_DEFINED) {
		if (snprintf(buf, size, "CKR_VENDOR_DEFINED+0x%lx",
			     (unsigned long)(rv & ~CKR_VENDOR_DEFINED)) >= (int)size)
			return "CKR_VENDOR_DEFINED";
	} else if (snprintf(buf, size, "an undefined CKR code") >= (int)size) {
		return "?";
	}
	return buf;
}

static const struct p11_name p11_mech_names[] = {
#define X(name) {name, #name},
#include "p11_mech_names.inc"
#undef X
	{0x210BUL, "CKM_AES_KEY_WRAP_KWP"}, /* PKCS#11 3.0; not in every pkcs11.h */
};

const char *p11_mech_name(CK_MECHANISM_TYPE m)
{
	return p11_name_find(p11_mech_names, ARRAY_LEN(p11_mech_names), m,
			     m & CKM_VENDOR_DEFINED ? "a vendor mechanism" : "another mechanism");
}

static const struct p11_name p11_attr_names[] = {
#define X(name) {name, #name},
#include "p11_attr_names.inc"
#undef X
};

const char *p11_attr_name(CK_ATTRIBUTE_TYPE a)
{
	return p11_name_find(p11_attr_names, ARRAY_LEN(p11_attr_names), a,
			     a & CKA_VENDOR_DEFINED ? "a vendor attribute" : "another attribute");
}

static size_t p11_rv_index(CK_RV rv)
{
	for (size_t i = 0; i < ARRAY_LEN(p11_rv_table); i++)
		if (p11_rv_table[i].rv == rv)
			return i;
	return (size_t)-1;
}

const char *p11_rv_str(CK_RV rv)
{
	size_t i = p11_rv_index(rv);
	return i == (size_t)-1 ? "PKCS#11 error" : p11_rv_table[i].words;
}

static int p11_verr(CK_RV rv, const char *fmt, va_list ap)
{
	char what[512];
	size_t i = p11_rv_index(rv);

	if (vsnprintf(what, sizeof(what), fmt, ap) < 0)
		what[0] = '\0';
	if (i == (size_t)-1) {
		char name[NAME_SIZE];
		return cer_err(CER_E_P11, "%s: the module returned %s (0x%lx)", what,
			       p11_rv_name_any(rv, name, sizeof(name)), (unsigned long)rv);
	}
	return cer_err(p11_rv_table[i].code, "%s: %s (%s)", what, p11_rv_table[i].words,
		       p11_rv_table[i].name);
}

int p11_err(CK_RV rv, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = p11_verr(rv, fmt, ap);
	va_end(ap);
	return r;
}

int p11_object_create(struct p11_session *s, CK_ATTRIBUTE *t, size_t n, CK_OBJECT_HANDLE *out,
		      const char *fmt, ...)
{
	va_list ap;
	CK_RV rv;
	int r;

	*out = CK_INVALID_HANDLE;
	if ((rv = s->f->C_CreateObject(s->handle, t, (CK_ULONG)n, out)) == CKR_OK)
		return 0;
	*out = CK_INVALID_HANDLE;
	va_start(ap, fmt);
	r = p11_verr(rv, fmt, ap);
	va_end(ap);
	return r;
}

int p11_module_load(const char *path, struct p11_module **out)
{
	CK_C_GetFunctionList get_list;
	CK_C_INITIALIZE_ARGS args;
	struct p11_module *m;
	CK_RV rv;
	int r;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if (snprintf(m->path, sizeof(m->path), "%s", path) >= (int)sizeof(m->path)) {
		r = cer_err(CER_E_INPUT, "PKCS#11 module path too long");
		goto fail;
	}
	m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (m->dl == NULL) {
		r = cer_err(CER_E_NOTFOUND, "%s: cannot load the PKCS#11 module: %s", path,
			    dlerror());
		goto fail;
	}
	*(void **)(&get_list) = dlsym(m->dl, "C_GetFunctionList");
	if (get_list == NULL) {
		r = cer_err(CER_E_INPUT, "%s: not a PKCS#11 module (no C_GetFunctionList)", path);
		goto fail;
	}
	if ((rv = get_list(&m->f)) != CKR_OK || m->f == NULL) {
		r = p11_err(rv, "%s: C_GetFunctionList", path);
		goto fail;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = m->f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		r = p11_err(rv, "%s: C_Initialize", path);
		goto fail;
	}
	m->initialized_by_us = rv == CKR_OK;
	*out = m;
	return 0;
fail:
	if (m->dl != NULL)
		dlclose(m->dl);
	free(m);
	return r;
}

void p11_module_free(struct p11_module *m)
{
	if (m == NULL)
		return;
	if (m->initialized_by_us)
		(void)m->f->C_Finalize(NULL);
	/* Not dlclose'd: a module may leave exit handlers or threads that point into it. */
	free(m);
}

const char *p11_module_path(const struct p11_module *m)
{
	return m->path;
}

CK_FUNCTION_LIST_PTR p11_module_functions(struct p11_module *m)
{
	return m->f;
}

/* Copy a blank-padded PKCS#11 string and remove the padding. */
static void p11_string(char *dst, size_t dstsize, const unsigned char *src, size_t srclen)
{
	size_t n = srclen < dstsize - 1 ? srclen : dstsize - 1;

	memcpy(dst, src, n);
	while (n > 0 && (dst[n - 1] == ' ' || dst[n - 1] == '\0'))
		n--;
	dst[n] = '\0';
}

static int p11_token_read(struct p11_module *m, CK_SLOT_ID slot, struct p11_token *t)
{
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_RV rv;

	memset(t, 0, sizeof(*t));
	t->slot = slot;
	if ((rv = m->f->C_GetSlotInfo(slot, &si)) != CKR_OK)
		return p11_err(rv, "slot %lu: C_GetSlotInfo", (unsigned long)slot);
	p11_string(t->slot_description, sizeof(t->slot_description), si.slotDescription,
		   sizeof(si.slotDescription));
	t->present = (si.flags & CKF_TOKEN_PRESENT) != 0;
	if (!t->present)
		return 0;
	if ((rv = m->f->C_GetTokenInfo(slot, &ti)) != CKR_OK)
		return p11_err(rv, "slot %lu: C_GetTokenInfo", (unsigned long)slot);
	p11_string(t->label, sizeof(t->label), ti.label, sizeof(ti.label));
	p11_string(t->manufacturer, sizeof(t->manufacturer), ti.manufacturerID,
		   sizeof(ti.manufacturerID));
	p11_string(t->model, sizeof(t->model), ti.model, sizeof(ti.model));
	p11_string(t->serial, sizeof(t->serial), ti.serialNumber, sizeof(ti.serialNumber));
	t->flags = ti.flags;
	t->initialized = (ti.flags & CKF_TOKEN_INITIALIZED) != 0;
	t->min_pin_len = ti.ulMinPinLen;
	t->max_pin_len = ti.ulMaxPinLen;
	return 0;
}

int p11_tokens_list(struct p11_module *m, struct p11_token **out, size_t *n)
{
	CK_SLOT_ID slots[P11_MAX_SLOTS];
	CK_ULONG count = P11_MAX_SLOTS;
	struct p11_token *tokens = NULL;
	CK_RV rv;
	int r;

	*out = NULL;
	*n = 0;
	if ((rv = m->f->C_GetSlotList(CK_FALSE, slots, &count)) != CKR_OK)
		return p11_err(rv, "%s: C_GetSlotList", m->path);
	tokens = calloc(count > 0 ? count : 1, sizeof(*tokens));
	if (tokens == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (CK_ULONG i = 0; i < count; i++) {
		if ((r = p11_token_read(m, slots[i], &tokens[i])) != 0) {
			free(tokens);
			return r;
		}
	}
	*out = tokens;
	*n = count;
	return 0;
}

/* Does the token match a label or an RFC 7512 URI (parsed by p11-kit)? */
static int p11_token_matches(const struct p11_token *t, const char *name, P11KitUri *uri)
{
	CK_TOKEN_INFO ti;
	CK_SLOT_ID slot;

	if (uri == NULL)
		return strcmp(t->label, name) == 0;
	/* slot-id (RFC 7512): tokens whose serial is shared (tpm2-pkcs11) are told apart by slot. */
	slot = p11_kit_uri_get_slot_id(uri);
	if (slot != (CK_SLOT_ID)-1 && slot != t->slot)
		return 0;
	memset(&ti, ' ', sizeof(ti));
	memcpy(ti.label, t->label, strlen(t->label));
	memcpy(ti.manufacturerID, t->manufacturer, strlen(t->manufacturer));
	memcpy(ti.model, t->model, strlen(t->model));
	memcpy(ti.serialNumber, t->serial, strlen(t->serial));
	ti.flags = t->flags;
	return p11_kit_uri_match_token_info(uri, &ti) == 1;
}

int p11_token_find(struct p11_module *m, const char *name, struct p11_token *out)
{
	struct p11_token *tokens = NULL;
	P11KitUri *uri = NULL;
	size_t n = 0, matches = 0, shared = 0;
	char who[3][160];
	int r;

	if (strncmp(name, "pkcs11:", 7) == 0) {
		uri = p11_kit_uri_new();
		if (uri == NULL)
			return cer_err(CER_E_NOMEM, "out of memory");
		r = p11_kit_uri_parse(name, P11_KIT_URI_FOR_TOKEN | P11_KIT_URI_FOR_SLOT, uri);
		if (r != P11_KIT_URI_OK) {
			r = cer_err(CER_E_INPUT, "%s: not a valid PKCS#11 token URI (%s)", name,
				    p11_kit_uri_message(r));
			goto out;
		}
	}
	if ((r = p11_tokens_list(m, &tokens, &n)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!tokens[i].present || !tokens[i].initialized)
			continue;
		if (p11_token_matches(&tokens[i], name, uri)) {
			if (matches == 0)
				*out = tokens[i];
			if (matches < 3)
				p11_token_describe(&tokens[i], who[matches], sizeof(who[0]));
			shared += !p11_token_serial_is_unique(&tokens[i]);
			matches++;
		}
	}
	if (matches == 0)
		r = cer_err(CER_E_NOTFOUND, "token \"%s\" not found in %s (see \"ceremony token list\")",
			    name, m->path);
	else if (matches > 1 && shared > 0)
		/* A serial that every such token shares cannot tell them apart: the slot can. */
		r = cer_err(CER_E_INPUT,
			    "%zu tokens match \"%s\" (%s; %s%s%s) and their serial tells them "
			    "apart from no other; name one by slot (pkcs11:token=...;slot-id=N)",
			    matches, name, who[0], who[1], matches > 2 ? "; " : "",
			    matches > 2 ? who[2] : "");
	else if (matches > 1)
		r = cer_err(CER_E_INPUT,
			    "%zu tokens match \"%s\"; name one by URI with its serial "
			    "(pkcs11:token=...;serial=...)",
			    matches, name);
	else
		r = 0;
out:
	free(tokens);
	if (uri != NULL)
		p11_kit_uri_free(uri);
	return r;
}

int p11_token_serial_is_unique(const struct p11_token *t)
{
	size_t n = strlen(t->serial);

	/* tpm2-pkcs11 gives every token 0000000000000000; blank is no serial either. */
	return n > 0 && strspn(t->serial, "0") != n;
}

void p11_token_describe(const struct p11_token *t, char *out, size_t size)
{
	int n;

	if (p11_token_serial_is_unique(t))
		n = snprintf(out, size, "\"%s\" (serial %s)", t->label, t->serial);
	else /* a serial that cannot tell tokens apart: name the slot, model, maker */
		n = snprintf(out, size, "\"%s\" (slot 0x%lx, %s %s, serial %s shared by every such token)",
			     t->label, (unsigned long)t->slot, t->manufacturer, t->model,
			     t->serial[0] != '\0' ? t->serial : "blank");
	if (n < 0 || n >= (int)size)
		out[size - 1] = '\0';
}

int p11_pin_len_check(const struct p11_token *t, const char *what, size_t len)
{
	CK_ULONG min = t->min_pin_len, max = t->max_pin_len;

	/* Some modules report 0 or CK_UNAVAILABLE_INFORMATION for "no limit". */
	if (min == CK_UNAVAILABLE_INFORMATION)
		min = 0;
	if (max == CK_UNAVAILABLE_INFORMATION || max == 0)
		max = (CK_ULONG)-1;
	if (len < min || len > max) {
		if (max == (CK_ULONG)-1)
			return cer_err(CER_E_PIN,
				       "%s has %zu characters; this token (%s %s) takes at least %lu",
				       what, len, t->manufacturer, t->model, (unsigned long)min);
		return cer_err(CER_E_PIN,
			       "%s has %zu characters; this token (%s %s) takes %lu to %lu", what,
			       len, t->manufacturer, t->model, (unsigned long)min,
			       (unsigned long)max);
	}
	return 0;
}

void p11_pin_rule(const struct p11_token *t, char *out, size_t size)
{
	CK_ULONG min = t->min_pin_len, max = t->max_pin_len;
	int n;

	if (min == CK_UNAVAILABLE_INFORMATION)
		min = 0;
	if (max == CK_UNAVAILABLE_INFORMATION || max == 0)
		n = snprintf(out, size, "at least %lu characters", (unsigned long)min);
	else
		n = snprintf(out, size, "%lu to %lu characters", (unsigned long)min,
			     (unsigned long)max);
	if (n < 0 || n >= (int)size)
		out[size - 1] = '\0';
}

/* Both PINs against the token's ulMinPinLen/ulMaxPinLen, before anything changes. */
static int p11_pins_check(const struct p11_token *t, const struct secret *so_pin,
			  const struct secret *user_pin)
{
	char rule[NAME_SIZE];
	int r;

	if ((so_pin != NULL && (r = p11_pin_len_check(t, "the SO PIN", so_pin->len)) != 0) ||
	    (user_pin != NULL && (r = p11_pin_len_check(t, "the user PIN", user_pin->len)) != 0)) {
		p11_pin_rule(t, rule, sizeof(rule));
		cer_err_prefix("PINs on this token must have %s: ", rule);
		return r;
	}
	return 0;
}

int p11_token_pins_usable(const struct p11_token *t)
{
	if (t->flags & CKF_SO_PIN_TO_BE_CHANGED)
		return cer_err(CER_E_REFUSED,
			       "token \"%s\" flags its SO PIN as still to be changed "
			       "(CKF_SO_PIN_TO_BE_CHANGED: a default or expired SO PIN); set a new "
			       "one first (ceremony token change-pin --so)",
			       t->label);
	if (t->flags & CKF_USER_PIN_TO_BE_CHANGED)
		return cer_err(CER_E_REFUSED,
			       "token \"%s\" flags its user PIN as still to be changed "
			       "(CKF_USER_PIN_TO_BE_CHANGED); set a new one first (ceremony "
			       "token change-pin)",
			       t->label);
	return 0;
}

/* SO login on token, C_InitPIN(user_pin). */
static int p11_init_user_pin(struct p11_module *m, const struct p11_token *t,
			     const struct secret *so_pin, const struct secret *user_pin)
{
	struct p11_session *s = NULL;
	CK_RV rv;
	int r;

	if ((r = p11_session_open(m, t, &s)) != 0)
		return r;
	if ((r = p11_login(s, CKU_SO, so_pin)) != 0)
		goto out;
	if ((rv = m->f->C_InitPIN(s->handle, user_pin->data, user_pin->len)) != CKR_OK) {
		r = p11_err(rv, "setting the user PIN of token \"%s\"", t->label);
		goto out;
	}
	r = 0;
out:
	p11_session_close(s);
	return r;
}

/* After C_InitToken: the token by label, its user PIN set, no PIN left to be changed. */
static int p11_token_finish(struct p11_module *m, const char *label, const struct secret *so_pin,
			    const struct secret *user_pin, struct p11_token *out)
{
	int r;

	/* Some modules give the token a new slot once initialised: look it up by label. */
	if ((r = p11_token_find(m, label, out)) != 0)
		return r;
	if ((r = p11_init_user_pin(m, out, so_pin, user_pin)) != 0)
		return r;
	if ((r = p11_token_find(m, label, out)) != 0)
		return r;
	return p11_token_pins_usable(out);
}

int p11_token_find_free(struct p11_module *m, const char *label, struct p11_token *out)
{
	struct p11_token *tokens = NULL;
	size_t n = 0, free_slot = (size_t)-1;
	int r;

	if (strlen(label) == 0 || strlen(label) > TOKEN_LABEL_LEN)
		return cer_err(CER_E_INPUT, "token label must be 1 to %d bytes", TOKEN_LABEL_LEN);
	if ((r = p11_tokens_list(m, &tokens, &n)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (tokens[i].present && tokens[i].initialized &&
		    strcmp(tokens[i].label, label) == 0) {
			char who[160];
			p11_token_describe(&tokens[i], who, sizeof(who));
			r = cer_err(CER_E_EXISTS,
				    "a token labelled \"%s\" already exists: %s; nothing was "
				    "initialised%s",
				    label, who,
				    (tokens[i].flags & CKF_USER_PIN_INITIALIZED)
					    ? ""
					    : " (its user PIN is not set: finish it with "
					      "\"ceremony token set-user-pin\")");
			goto out;
		}
		if (free_slot == (size_t)-1 && tokens[i].present && !tokens[i].initialized)
			free_slot = i;
	}
	if (free_slot == (size_t)-1) {
		r = cer_err(CER_E_NOTFOUND, "%s: no uninitialised token to initialise", m->path);
		goto out;
	}
	*out = tokens[free_slot];
	r = 0;
out:
	free(tokens);
	return r;
}

int p11_token_init(struct p11_module *m, const char *label, const struct secret *so_pin,
		   const struct secret *user_pin, struct p11_token *out, int *created)
{
	struct p11_token slot;
	unsigned char padded[TOKEN_LABEL_LEN];
	CK_RV rv;
	int r;

	*created = 0;
	if ((r = p11_token_find_free(m, label, &slot)) != 0)
		return r;
	/* Issue 11 item 1: a PIN the token would refuse must not leave it half-initialised. */
	if ((r = p11_pins_check(&slot, so_pin, user_pin)) != 0) {
		cer_err_prefix("slot 0x%lx: nothing was initialised: ", (unsigned long)slot.slot);
		return r;
	}
	memset(padded, ' ', sizeof(padded));
	memcpy(padded, label, strlen(label));
	rv = m->f->C_InitToken(slot.slot, so_pin->data, so_pin->len, padded);
	if (rv != CKR_OK)
		return p11_err(rv, "initialising token \"%s\" in slot 0x%lx; nothing was initialised",
			       label, (unsigned long)slot.slot);
	*created = 1;
	if ((r = p11_token_finish(m, label, so_pin, user_pin, out)) != 0)
		cer_err_prefix("token \"%s\" was initialised (SO PIN set) but not finished: ", label);
	return r;
}

int p11_token_set_user_pin(struct p11_module *m, const struct p11_token *token,
			   const struct secret *so_pin, const struct secret *user_pin)
{
	int r;

	if (token->flags & CKF_USER_PIN_INITIALIZED)
		return cer_err(CER_E_EXISTS,
			       "token \"%s\" already has a user PIN; nothing was changed "
			       "(change it with \"ceremony token change-pin\")",
			       token->label);
	if ((r = p11_pins_check(token, NULL, user_pin)) != 0)
		return r;
	return p11_init_user_pin(m, token, so_pin, user_pin);
}

int p11_token_change_pin(struct p11_module *m, const struct p11_token *token, CK_USER_TYPE who,
			 const struct secret *old_pin, const struct secret *new_pin)
{
	struct p11_session *s = NULL;
	CK_RV rv;
	int r;

	if ((r = p11_pins_check(token, who == CKU_SO ? new_pin : NULL,
				who == CKU_SO ? NULL : new_pin)) != 0)
		return r;
	if ((r = p11_session_open(m, token, &s)) != 0)
		return r;
	if ((r = p11_login(s, who, old_pin)) != 0)
		goto out;
	rv = m->f->C_SetPIN(s->handle, old_pin->data, old_pin->len, new_pin->data, new_pin->len);
	if (rv != CKR_OK) {
		r = p11_err(rv, "changing the %s PIN of token \"%s\"", who == CKU_SO ? "SO" : "user",
			    token->label);
		goto out;
	}
	r = 0;
out:
	p11_session_close(s);
	return r;
}

int p11_token_reinit(struct p11_module *m, const struct p11_token *token,
		     const struct secret *so_pin, const struct secret *user_pin,
		     struct p11_token *out)
{
	unsigned char padded[TOKEN_LABEL_LEN];
	CK_RV rv;
	int r;

	if ((r = p11_pins_check(token, so_pin, user_pin)) != 0)
		return r;
	memset(padded, ' ', sizeof(padded));
	memcpy(padded, token->label, strlen(token->label));
	/* C_InitToken on an initialised token needs its current SO PIN (PKCS#11 5.6). */
	if ((rv = m->f->C_InitToken(token->slot, so_pin->data, so_pin->len, padded)) != CKR_OK)
		return p11_err(rv, "re-initialising token \"%s\" in slot 0x%lx", token->label,
			       (unsigned long)token->slot);
	if ((r = p11_token_finish(m, token->label, so_pin, user_pin, out)) != 0)
		cer_err_prefix("token \"%s\" was re-initialised (emptied) but not finished: ",
			       token->label);
	return r;
}

static int p11_mech_token_check(const struct p11_token *t)
{
	if (!t->present)
		return cer_err(CER_E_NOTFOUND, "slot 0x%lx has no token", (unsigned long)t->slot);
	return 0;
}

int p11_mech_list(struct p11_module *m, const struct p11_token *token, CK_MECHANISM_TYPE **out,
		  size_t *n)
{
	CK_ULONG count = 0;
	CK_MECHANISM_TYPE *list;
	CK_RV rv;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = p11_mech_token_check(token)) != 0)
		return r;
	if ((rv = m->f->C_GetMechanismList(token->slot, NULL, &count)) != CKR_OK)
		return p11_err(rv, "token \"%s\": listing mechanisms", token->label);
	list = calloc(count > 0 ? count : 1, sizeof(*list));
	if (list == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if ((rv = m->f->C_GetMechanismList(token->slot, list, &count)) != CKR_OK) {
		free(list);
		return p11_err(rv, "token \"%s\": listing mechanisms", token->label);
	}
	*out = list;
	*n = count;
	return 0;
}

int p11_mech_info(struct p11_module *m, const struct p11_token *token, CK_MECHANISM_TYPE mech,
		  CK_MECHANISM_INFO *info)
{
	CK_RV rv;

	memset(info, 0, sizeof(*info));
	if ((rv = m->f->C_GetMechanismInfo(token->slot, mech, info)) != CKR_OK)
		return p11_err(rv, "token \"%s\": C_GetMechanismInfo(%s)", token->label,
			       p11_mech_name(mech));
	return 0;
}

static int p11_size_fits(const CK_MECHANISM_INFO *info, CK_MECHANISM_TYPE mech, CK_ULONG size)
{
	int aes = mech == CKM_AES_KEY_WRAP || mech == CKM_AES_KEY_WRAP_PAD ||
		  mech == 0x210BUL /* CKM_AES_KEY_WRAP_KWP */ || mech == CKM_AES_KEY_GEN;

	if (size == 0)
		return 1;
	/* Both 0 is "no stated limit" on some modules. */
	if (info->ulMinKeySize == 0 && info->ulMaxKeySize == 0)
		return 1;
	if (size >= info->ulMinKeySize && size <= info->ulMaxKeySize)
		return 1;
	/* PKCS#11 states AES sizes in bytes; some modules give bits. */
	return aes && size / 8 >= info->ulMinKeySize && size / 8 <= info->ulMaxKeySize;
}

static const struct p11_name p11_mech_flags[] = {
	{CKF_GENERATE_KEY_PAIR, "CKF_GENERATE_KEY_PAIR"}, {CKF_GENERATE, "CKF_GENERATE"},
	{CKF_SIGN, "CKF_SIGN"},				  {CKF_VERIFY, "CKF_VERIFY"},
	{CKF_WRAP, "CKF_WRAP"},				  {CKF_UNWRAP, "CKF_UNWRAP"},
	{CKF_ENCRYPT, "CKF_ENCRYPT"},			  {CKF_DECRYPT, "CKF_DECRYPT"},
	{CKF_DIGEST, "CKF_DIGEST"},			  {CKF_DERIVE, "CKF_DERIVE"},
};

int p11_mech_check(struct p11_module *m, const struct p11_token *token, CK_MECHANISM_TYPE mech,
		   CK_FLAGS need, CK_ULONG key_size)
{
	CK_MECHANISM_INFO info;
	CK_RV rv;
	int r;

	if ((r = p11_mech_token_check(token)) != 0)
		return r;
	memset(&info, 0, sizeof(info));
	rv = m->f->C_GetMechanismInfo(token->slot, mech, &info);
	if (rv == CKR_MECHANISM_INVALID)
		return cer_err(CER_E_REFUSED, "token \"%s\" (%s %s) does not offer %s",
			       token->label, token->manufacturer, token->model,
			       p11_mech_name(mech));
	if (rv != CKR_OK)
		return p11_err(rv, "token \"%s\": C_GetMechanismInfo(%s)", token->label,
			       p11_mech_name(mech));
	for (size_t i = 0; i < ARRAY_LEN(p11_mech_flags); i++)
		if ((need & p11_mech_flags[i].v) && !(info.flags & p11_mech_flags[i].v))
			return cer_err(CER_E_REFUSED,
				       "token \"%s\" (%s %s) offers %s but not for %s", token->label,
				       token->manufacturer, token->model, p11_mech_name(mech),
				       p11_mech_flags[i].name);
	if (!p11_size_fits(&info, mech, key_size))
		return cer_err(CER_E_REFUSED,
			       "token \"%s\" (%s %s) does %s only with key sizes %lu to %lu, not %lu",
			       token->label, token->manufacturer, token->model, p11_mech_name(mech),
			       (unsigned long)info.ulMinKeySize, (unsigned long)info.ulMaxKeySize,
			       (unsigned long)key_size);
	return 0;
}

int p11_mech_supported(struct p11_session *s, CK_MECHANISM_TYPE mech, CK_FLAGS need,
		       CK_ULONG key_size)
{
	return p11_mech_check(s->module, &s->token, mech, need, key_size);
}

const struct p11_token *p11_session_token(const struct p11_session *s)
{
	return &s->token;
}

struct p11_module *p11_session_module(const struct p11_session *s)
{
	return s->module;
}

int p11_object_destroy(struct p11_session *s, CK_OBJECT_HANDLE h, const char *what)
{
	CK_RV rv;

	if (h == CK_INVALID_HANDLE)
		return 0;
	if ((rv = s->f->C_DestroyObject(s->handle, h)) != CKR_OK)
		return p11_err(rv, "token \"%s\": destroying %s", s->token.label, what);
	return 0;
}

CK_RV p11_object_destroy_rv(struct p11_session *s, CK_OBJECT_HANDLE h)
{
	return h == CK_INVALID_HANDLE ? CKR_OK : s->f->C_DestroyObject(s->handle, h);
}

int p11_object_destroy_keep_error(struct p11_session *s, CK_OBJECT_HANDLE h, const char *what)
{
	char first[1024], name[NAME_SIZE];
	CK_RV rv;
	int n;

	if (h == CK_INVALID_HANDLE || s == NULL)
		return 0;
	/* The message of the failure that made us clean up is the one to show. */
	n = snprintf(first, sizeof(first), "%s", cer_err_msg(CER_E_INTERNAL));
	if (n < 0 || n >= (int)sizeof(first))
		first[sizeof(first) - 1] = '\0';
	if ((rv = s->f->C_DestroyObject(s->handle, h)) == CKR_OK)
		return 0;
	(void)cer_err(CER_E_P11, "%s; %s may remain on token \"%s\" (destroying it failed: %s, 0x%lx)",
		      first, what, s->token.label, p11_rv_name_any(rv, name, sizeof(name)),
		      (unsigned long)rv);
	return CER_E_P11;
}

int p11_session_open(struct p11_module *m, const struct p11_token *token,
		     struct p11_session **out)
{
	struct p11_session *s;
	CK_RV rv;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	s->module = m;
	s->f = m->f;
	s->token = *token;
	s->logged_in_as = (CK_USER_TYPE)-1;
	rv = m->f->C_OpenSession(token->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
				 &s->handle);
	if (rv != CKR_OK) {
		free(s);
		return p11_err(rv, "token \"%s\": opening a session", token->label);
	}
	*out = s;
	return 0;
}

void p11_session_close(struct p11_session *s)
{
	if (s == NULL)
		return;
	if (s->logged_in_as != (CK_USER_TYPE)-1)
		(void)s->f->C_Logout(s->handle);
	(void)s->f->C_CloseSession(s->handle);
	free(s);
}

void p11_session_close_shared(struct p11_session *s)
{
	if (s == NULL)
		return;
	/* PKCS#11 v2.40 5.6: closing the application's last session on the token logs out. */
	(void)s->f->C_CloseSession(s->handle);
	free(s);
}

static int p11_login_rv(struct p11_session *s, CK_USER_TYPE who, const struct secret *pin,
			CK_RV *rv_out)
{
	const char *role = who == CKU_SO ? "security officer" : "user";
	CK_RV rv;

	rv = s->f->C_Login(s->handle, who, pin->data, pin->len);
	if (rv == CKR_USER_ALREADY_LOGGED_IN) {
		/* Another session of ours is logged in: the PIN was not checked. Check it. */
		(void)s->f->C_Logout(s->handle);
		rv = s->f->C_Login(s->handle, who, pin->data, pin->len);
	}
	*rv_out = rv;
	if (rv != CKR_OK) {
		char desc[160];
		p11_token_describe(&s->token, desc, sizeof(desc));
		return p11_err(rv, "%s login to token %s", role, desc);
	}
	s->logged_in_as = who;
	return 0;
}

int p11_login(struct p11_session *s, CK_USER_TYPE who, const struct secret *pin)
{
	CK_RV rv;

	return p11_login_rv(s, who, pin, &rv);
}

int p11_login_retryable(struct p11_session *s, CK_USER_TYPE who, const struct secret *pin,
			int *may_retry)
{
	CK_TOKEN_INFO ti;
	CK_FLAGS stop = who == CKU_SO ? (CKF_SO_PIN_LOCKED | CKF_SO_PIN_FINAL_TRY)
				      : (CKF_USER_PIN_LOCKED | CKF_USER_PIN_FINAL_TRY);
	CK_RV rv = CKR_OK;
	int r;

	*may_retry = 0;
	if ((r = p11_login_rv(s, who, pin, &rv)) == 0)
		return 0;
	/* Only a plain wrong PIN is asked again, and never when the token says the next
	 * wrong try is its last (or it is locked already): a person decides that. */
	if (rv != CKR_PIN_INCORRECT)
		return r;
	rv = s->f->C_GetTokenInfo(s->token.slot, &ti);
	*may_retry = rv == CKR_OK && (ti.flags & stop) == 0;
	return r;
}

int p11_login_asking(struct p11_session *s, CK_USER_TYPE who, const char *source,
		     const char *what)
{
	struct secret *pin = NULL;
	int r;

	/* A wrong PIN typed at the terminal is asked again (issue 11.2), while the token is
	 * not at its final try; a PIN from a source is tried once. */
	for (int try = 1;; try++) {
		int may_retry = 0;
		if ((r = secret_read(source, what, SECRET_PIN_MAX, &pin)) != 0)
			return r;
		r = p11_login_retryable(s, who, pin, &may_retry);
		secret_free(pin); /* STYLE 14: wiped right after C_Login */
		pin = NULL;
		if (r == 0 || source != NULL || !may_retry || try == SECRET_ENTRY_TRIES)
			return r;
		secret_entry_failed(what, "wrong PIN", try + 1, SECRET_ENTRY_TRIES);
	}
}

int p11_logout(struct p11_session *s)
{
	CK_RV rv;

	if (s->logged_in_as == (CK_USER_TYPE)-1)
		return 0;
	rv = s->f->C_Logout(s->handle);
	s->logged_in_as = (CK_USER_TYPE)-1;
	if (rv != CKR_OK && rv != CKR_USER_NOT_LOGGED_IN)
		return p11_err(rv, "token \"%s\": logout", s->token.label);
	return 0;
}

int p11_objects_find(struct p11_session *s, CK_ATTRIBUTE *tmpl, CK_ULONG count,
		     CK_OBJECT_HANDLE *handles, size_t max, size_t *n)
{
	CK_ULONG got = 0;
	CK_RV rv, fin;

	*n = 0;
	if ((rv = s->f->C_FindObjectsInit(s->handle, tmpl, count)) != CKR_OK)
		return p11_err(rv, "token \"%s\": searching objects", s->token.label);
	rv = s->f->C_FindObjects(s->handle, handles, (CK_ULONG)max, &got);
	fin = s->f->C_FindObjectsFinal(s->handle);
	if (rv != CKR_OK)
		return p11_err(rv, "token \"%s\": searching objects", s->token.label);
	/* A search left open makes the session's next search fail with a misleading code. */
	if (fin != CKR_OK)
		return p11_err(fin, "token \"%s\": ending an object search", s->token.label);
	*n = got;
	return 0;
}

int p11_attr_get(struct p11_session *s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
		 uint8_t **out, size_t *len)
{
	CK_ATTRIBUTE a = {type, NULL, 0};
	CK_RV rv;

	*out = NULL;
	*len = 0;
	if ((rv = s->f->C_GetAttributeValue(s->handle, obj, &a, 1)) != CKR_OK)
		return p11_err(rv, "token \"%s\": reading attribute %s", s->token.label,
			       p11_attr_name(type));
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > 1024 * 1024)
		return cer_err(CER_E_P11, "token \"%s\": attribute %s unavailable",
			       s->token.label, p11_attr_name(type));
	a.pValue = malloc(a.ulValueLen + 1);
	if (a.pValue == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if ((rv = s->f->C_GetAttributeValue(s->handle, obj, &a, 1)) != CKR_OK) {
		free(a.pValue);
		return p11_err(rv, "token \"%s\": reading attribute %s", s->token.label,
			       p11_attr_name(type));
	}
	((uint8_t *)a.pValue)[a.ulValueLen] = 0;
	*out = a.pValue;
	*len = a.ulValueLen;
	return 0;
}

int p11_attr_bool(struct p11_session *s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
		  int *value)
{
	CK_BBOOL b = CK_FALSE;
	CK_ATTRIBUTE a = {type, &b, sizeof(b)};
	CK_RV rv;

	*value = -1;
	rv = s->f->C_GetAttributeValue(s->handle, obj, &a, 1);
	/*
	 * Absent only when the module says the object has no such attribute. Any
	 * other error (also one that sets the length to -1, such as
	 * CKR_ATTRIBUTE_SENSITIVE or a device fault) is an error: an unreadable
	 * CKA_EXTRACTABLE must never pass for an absent one.
	 */
	if (rv == CKR_ATTRIBUTE_TYPE_INVALID)
		return 0;
	if (rv != CKR_OK)
		return p11_err(rv, "token \"%s\": reading attribute %s", s->token.label,
			       p11_attr_name(type));
	if (a.ulValueLen != sizeof(b))
		return cer_err(CER_E_P11,
			       "token \"%s\": attribute %s has length %ld, not a CK_BBOOL",
			       s->token.label, p11_attr_name(type), (long)a.ulValueLen);
	*value = b ? 1 : 0;
	return 0;
}

int p11_attr_ulong(struct p11_session *s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
		   CK_ULONG *value)
{
	CK_ATTRIBUTE a = {type, value, sizeof(*value)};
	CK_RV rv;

	*value = CK_UNAVAILABLE_INFORMATION;
	rv = s->f->C_GetAttributeValue(s->handle, obj, &a, 1);
	if (rv == CKR_ATTRIBUTE_TYPE_INVALID) {
		*value = CK_UNAVAILABLE_INFORMATION;
		return 0;
	}
	if (rv != CKR_OK)
		return p11_err(rv, "token \"%s\": reading attribute %s", s->token.label,
			       p11_attr_name(type));
	if (a.ulValueLen != sizeof(*value))
		return cer_err(CER_E_P11, "token \"%s\": attribute %s has length %ld, not a CK_ULONG",
			       s->token.label, p11_attr_name(type), (long)a.ulValueLen);
	return 0;
}

int p11_random(struct p11_session *s, uint8_t *buf, size_t len)
{
	CK_RV rv = s->f->C_GenerateRandom(s->handle, buf, (CK_ULONG)len);

	if (rv != CKR_OK)
		return p11_err(rv, "token \"%s\": C_GenerateRandom", s->token.label);
	return 0;
}

int p11_random_mixed(struct p11_session *s, uint8_t *buf, size_t len)
{
	struct secret *hsm = NULL;
	size_t draw = secret_random_mix_draw(len);
	char source[96];
	int r;

	if (snprintf(source, sizeof(source), "token \"%s\"", s->token.label) >= (int)sizeof(source))
		source[sizeof(source) - 1] = '\0';
	if ((r = secret_new(draw, &hsm)) != 0)
		return r;
	if ((r = p11_random(s, hsm->data, draw)) == 0)
		r = secret_random_mix(hsm->data, draw, source, buf, len);
	secret_free(hsm);
	return r;
}

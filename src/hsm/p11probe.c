#include <stdio.h>
#include <string.h>

#include "ceremony/err.h"
#include "ceremony/p11probe.h"
#include "ceremony/p11wrap.h"

static const char *const need_names[P11PROBE_NEED_COUNT] = {
	[P11PROBE_ROOT_EC_P384] = "root key ec-p384 (key generate)",
	[P11PROBE_ROOT_EC_P256] = "root key ec-p256 (key generate)",
	[P11PROBE_ROOT_RSA_3072] = "root key rsa-3072 (key generate)",
	[P11PROBE_ROOT_RSA_4096] = "root key rsa-4096 (key generate)",
	[P11PROBE_SIGN_ECDSA] = "sign with an EC key (CKM_ECDSA)",
	[P11PROBE_SIGN_RSA] = "sign with an RSA key (CKM_RSA_PKCS)",
	[P11PROBE_SIGN_RSA_PSS] = "sign RSA-PSS (CKM_RSA_PKCS_PSS or CKM_RSA_X_509)",
	[P11PROBE_WRAP] = "backup create: RFC 5649 wrap (key generate --backup wrap)",
	[P11PROBE_UNWRAP] = "backup recover: RFC 5649 unwrap",
	[P11PROBE_WITNESS] = "witness key ec-p256 (witness register)",
	[P11PROBE_RNG] = "random numbers (C_GenerateRandom)",
	[P11PROBE_PINS_USABLE] = "PINs set and not flagged to be changed",
	[P11PROBE_SERIAL_UNIQUE] = "a serial that tells this token apart",
};

const char *p11probe_need_name(enum p11probe_need need)
{
	return need < P11PROBE_NEED_COUNT ? need_names[need] : "?";
}

enum p11probe_need p11probe_root_need(enum key_type type)
{
	switch (type) {
	case KEY_EC_P256: return P11PROBE_ROOT_EC_P256;
	case KEY_RSA_3072: return P11PROBE_ROOT_RSA_3072;
	case KEY_RSA_4096: return P11PROBE_ROOT_RSA_4096;
	case KEY_EC_P384: break;
	}
	return P11PROBE_ROOT_EC_P384;
}

/* Either RFC 5649 mechanism (PKCS#11 3.1's KWP or the older WRAP_PAD) with flag. */
static int probe_rfc5649(struct p11_module *m, const struct p11_token *t, CK_FLAGS flag)
{
	int r = p11_mech_check(m, t, P11WRAP_CKM_AES_KEY_WRAP_KWP, flag, 32);

	/* Only "not offered" (CER_E_REFUSED) lets the next mechanism answer; a fault is a fault. */
	if (r != CER_E_REFUSED)
		return r;
	cer_err_clear();
	if ((r = p11_mech_check(m, t, P11WRAP_CKM_AES_KEY_WRAP_PAD, flag, 32)) != CER_E_REFUSED)
		return r;
	cer_err_clear();
	return cer_err(CER_E_REFUSED,
		       "token \"%s\" (%s %s) offers no RFC 5649 key wrap (CKM_AES_KEY_WRAP_KWP or "
		       "CKM_AES_KEY_WRAP_PAD with %s for a 256-bit KEK)",
		       t->label, t->manufacturer, t->model,
		       flag == CKF_WRAP ? "CKF_WRAP" : "CKF_UNWRAP");
}

int p11probe_check(struct p11_module *m, const struct p11_token *t, enum p11probe_need need)
{
	int r;

	switch (need) {
	case P11PROBE_ROOT_EC_P384: return p11key_generate_possible(m, t, KEY_EC_P384);
	case P11PROBE_ROOT_EC_P256:
	case P11PROBE_WITNESS: return p11key_generate_possible(m, t, KEY_EC_P256);
	case P11PROBE_ROOT_RSA_3072: return p11key_generate_possible(m, t, KEY_RSA_3072);
	case P11PROBE_ROOT_RSA_4096: return p11key_generate_possible(m, t, KEY_RSA_4096);
	case P11PROBE_SIGN_ECDSA: return p11_mech_check(m, t, CKM_ECDSA, CKF_SIGN, 0);
	case P11PROBE_SIGN_RSA: return p11_mech_check(m, t, CKM_RSA_PKCS, CKF_SIGN, 0);
	case P11PROBE_SIGN_RSA_PSS:
		/* libp11 pads PSS on the host and signs with CKM_RSA_X_509. */
		if ((r = p11_mech_check(m, t, CKM_RSA_PKCS_PSS, CKF_SIGN, 0)) != CER_E_REFUSED)
			return r;
		cer_err_clear();
		return p11_mech_check(m, t, CKM_RSA_X_509, CKF_SIGN, 0);
	case P11PROBE_WRAP: return probe_rfc5649(m, t, CKF_WRAP);
	case P11PROBE_UNWRAP: return probe_rfc5649(m, t, CKF_UNWRAP);
	case P11PROBE_RNG:
		if (t->flags & CKF_RNG)
			return 0;
		return cer_err(CER_E_REFUSED, "token \"%s\" (%s %s) has no random number generator "
					      "(CKF_RNG not set)",
			       t->label, t->manufacturer, t->model);
	case P11PROBE_PINS_USABLE:
		if (!(t->flags & CKF_USER_PIN_INITIALIZED))
			return cer_err(CER_E_REFUSED,
				       "token \"%s\" has no user PIN (initialised but not finished: "
				       "ceremony token set-user-pin)",
				       t->label);
		return p11_token_pins_usable(t);
	case P11PROBE_SERIAL_UNIQUE:
		if (p11_token_serial_is_unique(t))
			return 0;
		return cer_err(CER_E_REFUSED,
			       "token \"%s\" reports serial \"%s\", which every %s %s token shares: "
			       "the tool names it by slot, model and manufacturer instead",
			       t->label, t->serial, t->manufacturer, t->model);
	case P11PROBE_NEED_COUNT: break;
	}
	return cer_err(CER_E_INTERNAL, "unknown probe");
}

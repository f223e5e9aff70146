/*
 * p11probe — what a token can do, found out before anything changes.
 *
 * Owns: asking a token (C_GetTokenInfo, C_GetMechanismList, C_GetMechanismInfo;
 * no login, no object) which of the tool's operations it can serve, and a
 * needs check a command or a script runs before its first prompt. Does not own:
 * the operations themselves (p11key, p11wrap, hsmkey), or printing (tokenops).
 */
#ifndef CEREMONY_P11PROBE_H
#define CEREMONY_P11PROBE_H

#include <stddef.h>

#include "ceremony/p11.h"
#include "ceremony/p11key.h"

/* One thing the tool may need from a token. */
enum p11probe_need {
	P11PROBE_ROOT_EC_P384,	/* key generate --type ec-p384 */
	P11PROBE_ROOT_EC_P256,	/* key generate --type ec-p256 */
	P11PROBE_ROOT_RSA_3072, /* key generate --type rsa-3072 */
	P11PROBE_ROOT_RSA_4096, /* key generate --type rsa-4096 */
	P11PROBE_SIGN_ECDSA,	/* signing with an EC key */
	P11PROBE_SIGN_RSA,	/* signing with an RSA key (PKCS#1 v1.5) */
	P11PROBE_SIGN_RSA_PSS,	/* RSA-PSS profiles */
	P11PROBE_WRAP,		/* backup create: RFC 5649 wrap under a trusted KEK */
	P11PROBE_UNWRAP,	/* backup recover: RFC 5649 unwrap */
	P11PROBE_WITNESS,	/* witness register: an ec-p256 key on a card */
	P11PROBE_RNG,		/* C_GenerateRandom (key IDs, KEKs, serials) */
	P11PROBE_PINS_USABLE,	/* no PIN flagged *_TO_BE_CHANGED */
	P11PROBE_SERIAL_UNIQUE, /* the serial tells this token apart */
	P11PROBE_NEED_COUNT
};

/* "key generate --type ec-p384", for messages and the probe's table. */
const char *p11probe_need_name(enum p11probe_need need);

/*
 * 0 if the token serves need, else CER_E_REFUSED naming the token and the
 * reason ("does not offer CKM_AES_KEY_WRAP_PAD ..."). No login, no prompt.
 */
int p11probe_check(struct p11_module *m, const struct p11_token *t, enum p11probe_need need)
	__attribute__((warn_unused_result));

/* The root-key need for a key type. */
enum p11probe_need p11probe_root_need(enum key_type type);

#endif

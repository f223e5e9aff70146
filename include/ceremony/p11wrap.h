/*
 * p11wrap — PKCS#11 key wrapping for the backup, and data objects on cards.
 *
 * Owns: the exact templates and call order for (1) a trusted AES-256 KEK made
 * by the security officer as a public session object, (2) C_WrapKey of the
 * root private key under it, (3) the runtime RFC 5649 section 6 known-answer
 * test of the token's wrap mechanism, (4) an unwrap-only KEK and C_UnwrapKey
 * of the root key with the root template at a backup token, (5) recreating the
 * public-key object from an SPKI (hsmkey reads the public half from it),
 * and (6) private CKO_DATA objects found by application and label. Measured
 * behaviour behind every choice: research/pkcs11-probe.md Q2, Q3, Q6.
 * Does not own: sessions and logins (p11), the KEK's bytes or life (backup).
 */
#ifndef CEREMONY_P11WRAP_H
#define CEREMONY_P11WRAP_H

#include <stddef.h>
#include <stdint.h>

#include "ceremony/p11.h"
#include "ceremony/p11key.h"
#include "ceremony/sizes.h"

/* PKCS#11 3.1 names RFC 5649 CKM_AES_KEY_WRAP_KWP; p11-kit's header lacks it. */
#define P11WRAP_CKM_AES_KEY_WRAP_KWP 0x0000210BUL
#define P11WRAP_CKM_AES_KEY_WRAP_PAD 0x0000210AUL
#define P11WRAP_WRAPPED_MAX (16 * 1024)
#define P11WRAP_DATA_MAX (64 * 1024)

/* The result of the RFC 5649 known-answer test on a token. */
enum p11wrap_kat {
	P11WRAP_KAT_EXACT = 1,      /* both RFC 5649 section 6 vectors byte for byte */
	P11WRAP_KAT_ZERO_PADDED = 2 /* RFC 5649 of the key zero-padded to 8 bytes (SoftHSM 2.6.1) */
};

struct p11wrap_mech {
	CK_MECHANISM_TYPE mechanism; /* 0x210B or 0x210A */
	enum p11wrap_kat kat;
};

const char *p11wrap_mechanism_name(CK_MECHANISM_TYPE m);
const char *p11wrap_kat_name(enum p11wrap_kat k);

/*
 * Issue 12 item 3: before any prompt, ask the token (C_GetMechanismInfo) whether
 * it has an RFC 5649 mechanism (CKM_AES_KEY_WRAP_KWP or _PAD) with every flag of
 * need (CKF_WRAP, CKF_UNWRAP) for a 256-bit AES key. CER_E_REFUSED names what
 * is missing; any other answer than CKR_OK or CKR_MECHANISM_INVALID is an error.
 */
int p11wrap_mechanisms_check(struct p11_session *s, CK_FLAGS need)
	__attribute__((warn_unused_result));

/*
 * Run the RFC 5649 section 6 vectors on the token (session must be able to
 * create public session objects): a throwaway AES-192 KEK and generic secrets
 * of 20 and 7 bytes, wrapped with 0x210B, else 0x210A, checked with OpenSSL's
 * RFC 5649 unwrap. Refuses a mechanism that is not RFC 5649 at all. The
 * throwaway objects are destroyed; a failed destroy fails the test with its
 * message (after another failure, that one's message comes first).
 */
int p11wrap_kat_run(struct p11_session *s, struct p11wrap_mech *out)
	__attribute__((warn_unused_result));

/*
 * The security officer's step (so must be logged in as CKU_SO): create the
 * trusted AES-256 KEK as a public session object (TOKEN, PRIVATE FALSE;
 * TRUSTED, WRAP TRUE; UNWRAP, ENCRYPT, DECRYPT, EXTRACTABLE FALSE; SENSITIVE
 * TRUE; ALLOWED_MECHANISMS the one mechanism) labelled label. The object
 * lives as long as the session so: log out but keep it open until the wrap.
 */
int p11wrap_kek_create_trusted(struct p11_session *so, const uint8_t kek[static KEK_LEN],
			       CK_MECHANISM_TYPE mech, const char *label, CK_OBJECT_HANDLE *out)
	__attribute__((warn_unused_result));

/*
 * An unwrap-only KEK as a private session object of the logged-in user (for
 * recovery: CKA_TRUSTED only matters for wrapping, PKCS#11 3.0 section 4.9).
 */
int p11wrap_kek_create_unwrap(struct p11_session *user, const uint8_t kek[static KEK_LEN],
			      CK_MECHANISM_TYPE mech, const char *label, CK_OBJECT_HANDLE *out)
	__attribute__((warn_unused_result));

/* The one secret key labelled label visible to s (handles change across logins). */
int p11wrap_kek_find(struct p11_session *s, const char *label, CK_OBJECT_HANDLE *out)
	__attribute__((warn_unused_result));

/* C_WrapKey key under kek; *out is malloc'd. */
int p11wrap_wrap(struct p11_session *s, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE kek,
		 CK_OBJECT_HANDLE key, uint8_t **out, size_t *len) __attribute__((warn_unused_result));

struct p11wrap_unwrap_params {
	enum key_type type;
	const char *label;
	const uint8_t *id;
	size_t id_len;
	int extractable; /* 0: non-extractable copy; 1: EXTRACTABLE with WRAP_WITH_TRUSTED */
};

/*
 * C_UnwrapKey wrapped under kek into a token private key with the root
 * template (SIGN only, SENSITIVE, PRIVATE; no MODIFIABLE, SoftHSM issue 707).
 */
int p11wrap_unwrap(struct p11_session *s, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE kek,
		   const uint8_t *wrapped, size_t len, const struct p11wrap_unwrap_params *p,
		   CK_OBJECT_HANDLE *out) __attribute__((warn_unused_result));

/* A token CKO_PUBLIC_KEY (VERIFY only) from a DER SPKI, with label and CKA_ID. */
int p11wrap_pubkey_create(struct p11_session *s, const uint8_t *spki, size_t spki_len,
			  const char *label, const uint8_t *id, size_t id_len,
			  CK_OBJECT_HANDLE *out) __attribute__((warn_unused_result));

/* A private, non-modifiable token CKO_DATA object (the user must be logged in). */
int p11wrap_data_create(struct p11_session *s, const char *application, const char *label,
			const uint8_t *value, size_t len, CK_OBJECT_HANDLE *out)
	__attribute__((warn_unused_result));
/* Up to max CKO_DATA objects with this application (and label, unless NULL). */
int p11wrap_data_find(struct p11_session *s, const char *application, const char *label,
		      CK_OBJECT_HANDLE *handles, size_t max, size_t *n)
	__attribute__((warn_unused_result));
/* The object's CKA_VALUE (malloc'd, at most P11WRAP_DATA_MAX) and CKA_LABEL (NUL-terminated). */
int p11wrap_data_read(struct p11_session *s, CK_OBJECT_HANDLE h, uint8_t **value, size_t *len,
		      char *label, size_t label_size) __attribute__((warn_unused_result));

#endif

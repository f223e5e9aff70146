/*
 * p11key — the root key's PKCS#11 template, generation, lookup and evidence.
 *
 * Owns: the exact root-key
 * template of DESIGN.md (TOKEN, PRIVATE, SENSITIVE, EXTRACTABLE only with
 * WRAP_WITH_TRUSTED, SIGN; DECRYPT, UNWRAP, DERIVE, SIGN_RECOVER false; random
 * CKA_ID), refusing duplicate labels/IDs, reading back the attributes that are
 * the key's generation evidence, and the public key as a DER SPKI. Does not own:
 * signing (hsmkey), wrapping (backup).
 */
#ifndef CEREMONY_P11KEY_H
#define CEREMONY_P11KEY_H

#include <stddef.h>
#include <stdint.h>

#include "ceremony/keytype.h"
#include "ceremony/p11.h"

#define P11KEY_ID_LEN 16
#define P11KEY_LABEL_MAX 64


struct p11key {
	enum key_type type;
	CK_OBJECT_HANDLE priv;
	CK_OBJECT_HANDLE pub; /* CK_INVALID_HANDLE if the token has no public object */
	uint8_t id[P11KEY_ID_LEN * 4];
	size_t id_len;
	char label[P11KEY_LABEL_MAX + 1];
};

/* The attributes read back after generation: the key's self-reported evidence. -1 = absent. */
struct p11key_evidence {
	int token, private_, sensitive, extractable, wrap_with_trusted, sign;
	int decrypt, unwrap, derive, sign_recover;
	int local, always_sensitive, never_extractable;
	CK_ULONG key_gen_mechanism;
};

/*
 * Generate a root key pair with the root template. Refuses if any object on the
 * token already has this label or the chosen CKA_ID, and refuses (destroying
 * the new pair) if the read-back evidence is not what was asked. On failure,
 * out->priv is CK_INVALID_HANDLE unless a pair could not be destroyed: then out
 * names what is left (and the message says so).
 */
int p11key_generate(struct p11_session *s, const char *label, enum key_type type,
		    struct p11key *out, struct p11key_evidence *ev)
	__attribute__((warn_unused_result));

/*
 * Destroy the key's private and public objects (either handle may be
 * CK_INVALID_HANDLE). Keeps the current error message; returns 0 when both are
 * gone, else CER_E_P11 with *first the first C_DestroyObject failure.
 */
int p11key_destroy(struct p11_session *s, const struct p11key *k, CK_RV *first)
	__attribute__((warn_unused_result));
/*
 * Destroy a key pair after a failure and put what is left in front of the
 * current error message: "key pair L destroyed, nothing left: ", or "key pair
 * L (CKA_ID x) is LEFT on the token, destroying it failed (CKR_X): ". Returns
 * 0 when nothing is left, CER_E_P11 when the pair may remain.
 */
int p11key_discard(struct p11_session *s, const struct p11key *k);

/* Find the private key labelled label (and its public object by CKA_ID). */
int p11key_find(struct p11_session *s, const char *label, struct p11key *out)
	__attribute__((warn_unused_result));

int p11key_evidence_read(struct p11_session *s, const struct p11key *k,
			 struct p11key_evidence *ev) __attribute__((warn_unused_result));

/* Check evidence against the root template; names the first attribute that differs. */
int p11key_evidence_check(const struct p11key_evidence *ev, int generated_here)
	__attribute__((warn_unused_result));

/* The public key as DER SubjectPublicKeyInfo (malloc'd), from the public object. */
int p11key_spki(struct p11_session *s, const struct p11key *k, uint8_t **der, size_t *len)
	__attribute__((warn_unused_result));

/* Count objects of any class with this label or CKA_ID (either may be NULL). */
int p11key_name_taken(struct p11_session *s, const char *label, const uint8_t *id,
		      size_t id_len, int *taken) __attribute__((warn_unused_result));

const char *p11key_mechanism_name(CK_ULONG mech);

#endif

/*
 * p11key — the root key's PKCS#11 template, generation, lookup and evidence.
 *
 * Owns: the key policies and their templates (root with --backup wrap: the exact root-key template of
 * DESIGN.md, TOKEN, PRIVATE, SENSITIVE, EXTRACTABLE only with
 * WRAP_WITH_TRUSTED, SIGN; DECRYPT, UNWRAP, DERIVE, SIGN_RECOVER false; root
 * with --backup none: never extractable; witness: never extractable, P-256),
 * the one C_GenerateKeyPair of the program, refusing duplicate labels/IDs,
 * reading back the attributes that are the key's evidence, checking them
 * against the policy and its recorded waivers (an attribute a module cannot
 * honour or does not report, named, stored beside the key), and the public key
 * as a DER SPKI. Does not own: signing (hsmkey), wrapping (backup).
 */
#ifndef CEREMONY_P11KEY_H
#define CEREMONY_P11KEY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "ceremony/keytype.h"
#include "ceremony/p11.h"
#include "ceremony/sizes.h"

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

/* What a key is for, and so which template it gets and which evidence it must show. */
enum p11key_policy {
	P11KEY_ROOT_WRAP, /* root key, exportable only under an SO-trusted KEK (--backup wrap) */
	P11KEY_ROOT_NONE, /* root key, never extractable (--backup none) */
	P11KEY_WITNESS,	  /* a witness's countersigning key: never extractable */
};

/* "wrap" / "none" <-> policy (the root policies only). */
int p11key_policy_parse(const char *backup, enum p11key_policy *out)
	__attribute__((warn_unused_result));
const char *p11key_policy_name(enum p11key_policy p);

/*
 * Waivers: one bit per evidence rule a module may not honour (tpm2-pkcs11
 * forces CKA_DECRYPT TRUE; openCryptoki reports no CKA_KEY_GEN_MECHANISM, nor
 * CKA_WRAP_WITH_TRUSTED). Named by the attribute: "CKA_DECRYPT".
 */
#define P11KEY_WAIVERS_MAX 16
int p11key_waiver_parse(const char *attr, unsigned *waivers) __attribute__((warn_unused_result));
/* "CKA_DECRYPT,CKA_KEY_GEN_MECHANISM", or "none" (for scripts), added to *waivers. */
int p11key_waivers_parse_list(const char *list, unsigned *waivers)
	__attribute__((warn_unused_result));
/* "CKA_DECRYPT,CKA_KEY_GEN_MECHANISM" ("" for none). */
void p11key_waivers_format(unsigned waivers, char *out, size_t size);
/* Each waived attribute's name in turn: i from 0 while it returns non-NULL. */
const char *p11key_waiver_name(unsigned waivers, size_t i);

/*
 * Generate a key pair under policy. Refuses if any object on the token already
 * has this label or the chosen CKA_ID, and refuses (destroying the new pair) if
 * the read-back evidence is not what was asked and no waiver covers exactly
 * that attribute; refuses a waiver the key does not need. Waivers used are
 * stored on the token beside the key (a private CKO_DATA object, application
 * "ceremony-key-waivers", same CKA_ID), so signing can check them later.
 */
int p11key_generate(struct p11_session *s, const char *label, enum key_type type,
		    enum p11key_policy policy, unsigned waivers, struct p11key *out,
		    struct p11key_evidence *ev) __attribute__((warn_unused_result));

/* The waivers stored beside k (0 if none). */
int p11key_waivers_read(struct p11_session *s, const struct p11key *k, unsigned *waivers)
	__attribute__((warn_unused_result));

/*
 * The key labelled label, found for signing: its evidence read and checked
 * against the root rules and its stored waivers. A key whose evidence fails is
 * refused, naming the attribute. A key that is not CKA_LOCAL (recovered from a
 * backup) is held to the rules on what it can do, not to how it was made.
 * waivers_used may be NULL.
 */
int p11key_find_signer(struct p11_session *s, const char *label, struct p11key *out,
		       unsigned *waivers_used) __attribute__((warn_unused_result));

/* Does the token offer what generating type needs (mechanism, size or curve)? */
int p11key_generate_possible(struct p11_module *m, const struct p11_token *t, enum key_type type)
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

/*
 * Check evidence against policy; names the first attribute that differs and is
 * not waived. *used (may be NULL) gets the waivers that were needed.
 */
int p11key_evidence_check(const struct p11key_evidence *ev, enum p11key_policy policy,
			  int generated_here, unsigned waivers, unsigned *used)
	__attribute__((warn_unused_result));

/* The public key as DER SubjectPublicKeyInfo (malloc'd), from the public object. */
int p11key_spki(struct p11_session *s, const struct p11key *k, uint8_t **der, size_t *len)
	__attribute__((warn_unused_result));

/* The public half as operations use it: what they record, print and build certificates from. */
struct p11key_public {
	uint8_t *spki;                   /* DER SubjectPublicKeyInfo (malloc'd) */
	size_t spki_len;
	uint8_t spki_sha256[SHA256_LEN]; /* what records and read-alouds name the key by */
	char spki_sha256_hex[SHA256_HEX_SIZE];
	EVP_PKEY *pkey;                  /* the same key, decoded */
};
/* p11key_spki, its SHA-256 (and hex) and the decoded key; free with p11key_public_free. */
int p11key_public_read(struct p11_session *s, const struct p11key *k, struct p11key_public *out)
	__attribute__((warn_unused_result));
void p11key_public_free(struct p11key_public *p);

/* Count objects of any class with this label or CKA_ID (either may be NULL). */
int p11key_name_taken(struct p11_session *s, const char *label, const uint8_t *id,
		      size_t id_len, int *taken) __attribute__((warn_unused_result));

const char *p11key_mechanism_name(CK_ULONG mech);

#endif

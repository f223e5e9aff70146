/*
 * hsmkey — an OpenSSL EVP_PKEY whose private operations run inside the HSM.
 *
 * Owns: an EVP_PKEY built from the key's public half (read from the token)
 * whose sign operation is C_SignInit + C_Sign on OUR logged-in p11 session —
 * CKM_ECDSA (the token's r||s becomes a DER ECDSA-Sig-Value) or CKM_RSA_PKCS
 * over OpenSSL's DigestInfo (RSASSA-PKCS1-v1_5) — and the signature digest that
 * goes with each key type. No second PKCS#11 library, no second session, no
 * wait on any lock: a failed call returns its CKR_ code at once, in the OpenSSL
 * error queue (cer_err_ssl shows it). Does not own: the session (p11), which
 * must stay open and logged in as the user while the EVP_PKEY signs.
 */
#ifndef CEREMONY_HSMKEY_H
#define CEREMONY_HSMKEY_H

#include <openssl/evp.h>

#include "ceremony/p11.h"
#include "ceremony/p11key.h"

struct hsmkey;

/* An EVP_PKEY for key on session s; reads its public key from the token. */
int hsmkey_open(struct p11_session *s, const struct p11key *key, struct hsmkey **out)
	__attribute__((warn_unused_result));
EVP_PKEY *hsmkey_pkey(struct hsmkey *h);
/* Free the EVP_PKEY and the methods; no PKCS#11 call. NULL is fine. */
void hsmkey_free(struct hsmkey *h);

/* SHA-384 for P-384, SHA-256 for P-256 and RSA (PKCS#1 v1.5). */
const EVP_MD *hsmkey_digest(enum key_type t);

#endif

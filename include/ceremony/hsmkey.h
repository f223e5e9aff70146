/*
 * hsmkey — an OpenSSL EVP_PKEY whose private operations run inside the HSM.
 *
 * Owns: asking libp11 for the key we already found (by token serial + CKA_ID),
 * so OpenSSL can sign certificates, CRLs and CMS with it, and the signature
 * digest that goes with each key type. Never logs in, never opens a read-write
 * libp11 session, never unloads the module (research/pkcs11-probe.md Q5): the
 * p11 session must already be logged in as the user, and hsmkey_free must be
 * called after the p11 session is closed (libp11 closes all sessions of the slot).
 */
#ifndef CEREMONY_HSMKEY_H
#define CEREMONY_HSMKEY_H

#include <openssl/evp.h>

#include "ceremony/p11.h"
#include "ceremony/p11key.h"

struct hsmkey;

int hsmkey_open(const char *module_path, const struct p11_token *token, const struct p11key *key,
		struct hsmkey **out) __attribute__((warn_unused_result));
EVP_PKEY *hsmkey_pkey(struct hsmkey *h);
void hsmkey_free(struct hsmkey *h);

/* SHA-384 for P-384, SHA-256 for P-256 and RSA (PKCS#1 v1.5). */
const EVP_MD *hsmkey_digest(enum key_type t);

#endif

/*
 * cardsign — an ECDSA signature made inside a card (a PKCS#11 token) over a digest.
 *
 * Owns: C_SignInit/C_Sign with CKM_ECDSA on a found private key, and turning
 * the token's raw r||s into a DER ECDSA-Sig-Value, as OpenSSL and
 * `openssl dgst -verify` expect. The session must be logged in as the user.
 * Does not own: finding the key (p11key), logging in (p11, hsm), what the
 * digest is of (approve, witness).
 */
#ifndef CEREMONY_CARDSIGN_H
#define CEREMONY_CARDSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "ceremony/p11.h"
#include "ceremony/p11key.h"
#include "ceremony/sizes.h"

#define CARDSIGN_P256_DER_MAX 72

/* Sign a SHA-256 digest with a P-256 key; *der_len in: room, out: length. */
int cardsign_p256(struct p11_session *s, const struct p11key *k, const uint8_t md[SHA256_LEN],
		  uint8_t *der, size_t *der_len) __attribute__((warn_unused_result));

#endif

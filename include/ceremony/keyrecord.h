/*
 * keyrecord — what a transcript record says about a token and a key in it:
 * the token's names, the key's PKCS#11 evidence and the waivers it was made with.
 *
 * Owns: those JSON shapes, shared by token.init, key.generate, cert.signer,
 * witness.register and hsm.leftover records. Does not own: reading them from the
 * token (p11, p11key) or the records around them (transcript).
 */
#ifndef CEREMONY_KEYRECORD_H
#define CEREMONY_KEYRECORD_H

#include <jansson.h>

#include "ceremony/p11.h"
#include "ceremony/p11key.h"

/* Everything that names a token: its serial alone may be shared (tpm2-pkcs11). */
json_t *keyrecord_token(const struct p11_token *t);
/* The key evidence as key.generate and cert.signer record it. */
json_t *keyrecord_evidence(const struct p11key_evidence *ev);
/* The waivers' CKA_ names, an array (empty without waivers). */
json_t *keyrecord_waivers(unsigned waivers);

#endif

/*
 * certparse — a DER certificate read into an X509 without decoding its key.
 *
 * OpenSSL 3.0's d2i_X509 sets up a whole OSSL_DECODER context for the
 * subject's key (every key manager and decoder of the providers, about 230 us
 * a certificate). Issuance reads back each certificate it assembles, and needs
 * its fields and bytes, not its key object: the issuer's key checks the
 * signature. Owns: that reading. Does not own: checking signatures or keys.
 */
#ifndef CEREMONY_CERTPARSE_H
#define CEREMONY_CERTPARSE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

/*
 * An X509 holding the certificate der (len bytes, nothing after it) that
 * re-encodes to exactly those bytes, or CER_E_VERIFY. Its SubjectPublicKeyInfo
 * is kept as bytes (X509_get_X509_PUBKEY, certinfo and PEM work; X509_get0_pubkey
 * gives NULL). A certificate the fast reading does not take (issuer or subject
 * unique IDs, anything that does not re-encode) is read by d2i_X509, key and all.
 */
int certparse_der(const uint8_t *der, size_t len, X509 **out) __attribute__((warn_unused_result));

#endif

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
#include <openssl/x509.h>

#include "ceremony/p11.h"
#include "ceremony/p11key.h"

struct hsmkey;

/* An EVP_PKEY for key on session s; reads its public key from the token. */
int hsmkey_open(struct p11_session *s, const struct p11key *key, struct hsmkey **out)
	__attribute__((warn_unused_result));
EVP_PKEY *hsmkey_pkey(struct hsmkey *h);
/* Free the EVP_PKEY and the methods; no PKCS#11 call. NULL is fine. */
void hsmkey_free(struct hsmkey *h);

/*
 * Is cert (the operator's file cert_name) the certificate of the token's key?
 * 0 when it is. A PKCS#11 failure is the token's fault and comes back as such,
 * with its CKR_ name, never as a mismatch of the file. On a mismatch the key's
 * public half is read from the token a second time: a failure or a different
 * answer is reported as the token's (CER_E_P11); only two equal answers that
 * differ from the file blame the file (CER_E_REFUSED, "... is not the
 * certificate of key ..."). `nothing` ends the message ("nothing was signed").
 * hsmkey_cert_check_key does the same without an hsmkey (reads the key itself).
 */
int hsmkey_cert_check(struct hsmkey *h, X509 *cert, const char *cert_name, const char *nothing)
	__attribute__((warn_unused_result));
int hsmkey_cert_check_key(struct p11_session *s, const struct p11key *key, X509 *cert,
			  const char *cert_name, const char *nothing)
	__attribute__((warn_unused_result));

/* SHA-384 for P-384, SHA-256 for P-256 and RSA (PKCS#1 v1.5). */
const EVP_MD *hsmkey_digest(enum key_type t);

#endif

/*
 * pem — certificates and CRLs to and from files.
 *
 * Owns: loading exactly one certificate from a PEM or DER file (nothing else
 * in the file), and encoding certificates and CRLs as PEM in memory for
 * file_write_new. Does not own: checking what a certificate says.
 */
#ifndef CEREMONY_PEM_H
#define CEREMONY_PEM_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#define PEM_CERT_MAX_BYTES (256 * 1024)

int pem_load_cert(const char *path, X509 **out) __attribute__((warn_unused_result));
/* malloc'd PEM text of x (appended after an existing buffer when *len > 0). */
int pem_encode_cert(X509 *x, uint8_t **buf, size_t *len) __attribute__((warn_unused_result));
int pem_encode_crl(X509_CRL *crl, uint8_t **buf, size_t *len) __attribute__((warn_unused_result));

#endif

/* Shared between csr.c, csr_check.c, csr_subject.c and csr_ext.c; not a public API. */
#ifndef CEREMONY_CSR_INT_H
#define CEREMONY_CSR_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "ceremony/csr.h"

#define CSR_NAME_MAX 4096
#define CSR_OID_TEXT_MAX 128

struct csr {
	char name[CSR_NAME_MAX];
	X509_REQ *req;
	EVP_PKEY *pkey; /* owned by req unless pkey_owned; NULL when OpenSSL cannot decode the key */
	int pkey_owned; /* csr_parse_fast imported it apart from req */
	uint8_t *der;   /* the request's exact DER bytes */
	size_t der_len;
	STACK_OF(X509_EXTENSION) *exts; /* requested extensions (empty when none) */
	char key_error[CSR_CHECK_MSG_MAX]; /* why the key did not decode */
};

/* c->der read without OpenSSL's per-key decoder when the key is an uncompressed
 * P-256/384/521 point (csr_fast.c): 1 with c->req and c->pkey set and the request
 * re-encoding to c->der exactly, else 0 (nothing set: parse it the usual way). */
int csr_parse_fast(struct csr *c);

/* Record one verdict; a message too long for the report is cut with "...". */
void csr_verdict(struct csr_report *rep, const char *name, int pass, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Dotted text of an OID (always dotted: names can be registered to mislead). */
void csr_oid_text(const ASN1_OBJECT *o, char *buf, size_t size);

/* subject-* checks and the subject half of profile-subject (csr_subject.c). */
void csr_check_subject(const struct csr *c, const struct csr_policy *policy,
		       struct csr_report *rep);
/* extensions-* and profile-* extension checks (csr_ext.c). */
void csr_check_extensions(const struct csr *c, const struct csr_policy *policy,
			  struct csr_report *rep);

#endif

/* subject: compose a certificate's subject from a profile and a request's name. */
#ifndef CEREMONY_SUBJECT_H
#define CEREMONY_SUBJECT_H

#include <openssl/x509.h>

#include "ceremony/profile.h"

/* The profile's fixed attributes, then the request's attributes the profile takes
 * (`name` names the request in errors). Refuses forbidden, unlisted or differing
 * attributes. On success *out is a new name the caller frees. */
int subject_compose(const struct profile *p, const X509_NAME *requested, const char *name,
		    X509_NAME **out);

/* Why one attribute value is refused (docs/csr.md subject-strings: empty, outside
 * PrintableString, bad UTF-8, controls, Unicode format characters, leading,
 * trailing or doubled spaces, not NFC, only punctuation), or NULL. */
const char *subject_value_problem(const ASN1_STRING *s);

#endif

/*
 * keytype — the one table of key types the tool knows.
 *
 * Owns: each type's name ("ec-p384"), family, size, curve (NID, NIST name,
 * namedCurve DER for CKA_EC_PARAMS), the code a backup blob stores, and the
 * digest its signatures use. Does not own: generating keys (p11key), reading
 * them from requests (csr), or which types a profile allows (profile).
 */
#ifndef CEREMONY_KEYTYPE_H
#define CEREMONY_KEYTYPE_H

#include <stddef.h>
#include <stdint.h>

enum key_type { KEY_EC_P256, KEY_EC_P384, KEY_RSA_3072, KEY_RSA_4096 };

struct key_type_info {
	enum key_type type;
	const char *name;        /* "ec-p384" */
	int is_ec;
	unsigned bits;           /* modulus bits, or the curve's field size */
	int curve_nid;           /* NID_undef for RSA */
	const char *curve_name;  /* "P-384"; NULL for RSA */
	const uint8_t *ec_params; /* DER namedCurve OID; NULL for RSA */
	size_t ec_params_len;
	uint8_t wire_code;       /* stored in backup blobs; never reuse a code */
	int digest_nid;          /* the digest signatures by this key use */
};

/* The entry for t; never NULL for a valid enum value. */
const struct key_type_info *key_type_info(enum key_type t);

/* "ec-p384" -> KEY_EC_P384; CER_E_INPUT naming the allowed types otherwise. */
int key_type_parse(const char *name, enum key_type *out) __attribute__((warn_unused_result));
const char *key_type_name(enum key_type t);

/* From a backup blob's code; -1 if no type has it. */
int key_type_from_wire(uint8_t code, enum key_type *out) __attribute__((warn_unused_result));

/* From an RSA size or an EC curve NID (0 bits for EC); -1 if no type matches. */
int key_type_from_rsa_bits(unsigned bits, enum key_type *out) __attribute__((warn_unused_result));
int key_type_from_curve(int curve_nid, enum key_type *out) __attribute__((warn_unused_result));
/* From CKA_EC_PARAMS (DER namedCurve); -1 for any other curve or encoding. */
int key_type_from_ec_params(const uint8_t *der, size_t len, enum key_type *out)
	__attribute__((warn_unused_result));

#endif

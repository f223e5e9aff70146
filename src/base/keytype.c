/* keytype: the one table of key types (see include/ceremony/keytype.h). */
#include <string.h>

#include <openssl/obj_mac.h>

#include "ceremony/err.h"
#include "ceremony/keytype.h"

static const uint8_t oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};

/* The order is the order help texts list them in. */
static const struct key_type_info types[] = {
	{KEY_EC_P384, "ec-p384", 1, 384, NID_secp384r1, "P-384", oid_p384, sizeof(oid_p384), 1,
	 NID_sha384},
	{KEY_EC_P256, "ec-p256", 1, 256, NID_X9_62_prime256v1, "P-256", oid_p256, sizeof(oid_p256),
	 2, NID_sha256},
	{KEY_RSA_3072, "rsa-3072", 0, 3072, NID_undef, NULL, NULL, 0, 3, NID_sha256},
	{KEY_RSA_4096, "rsa-4096", 0, 4096, NID_undef, NULL, NULL, 0, 4, NID_sha256},
};
#define N_TYPES (sizeof(types) / sizeof(types[0]))

const struct key_type_info *key_type_info(enum key_type t)
{
	for (size_t i = 0; i < N_TYPES; i++)
		if (types[i].type == t)
			return &types[i];
	return &types[0]; /* unreachable for a valid enum value */
}

int key_type_parse(const char *name, enum key_type *out)
{
	for (size_t i = 0; i < N_TYPES; i++)
		if (strcmp(name, types[i].name) == 0) {
			*out = types[i].type;
			return 0;
		}
	return cer_err(CER_E_INPUT,
		       "unknown key type \"%s\": use ec-p384, ec-p256, rsa-3072 or rsa-4096", name);
}

const char *key_type_name(enum key_type t)
{
	for (size_t i = 0; i < N_TYPES; i++)
		if (types[i].type == t)
			return types[i].name;
	return "unknown";
}

int key_type_from_wire(uint8_t code, enum key_type *out)
{
	for (size_t i = 0; i < N_TYPES; i++)
		if (types[i].wire_code == code) {
			*out = types[i].type;
			return 0;
		}
	return -1;
}

int key_type_from_rsa_bits(unsigned bits, enum key_type *out)
{
	for (size_t i = 0; i < N_TYPES; i++)
		if (!types[i].is_ec && types[i].bits == bits) {
			*out = types[i].type;
			return 0;
		}
	return -1;
}

int key_type_from_curve(int curve_nid, enum key_type *out)
{
	for (size_t i = 0; i < N_TYPES; i++)
		if (types[i].is_ec && types[i].curve_nid == curve_nid) {
			*out = types[i].type;
			return 0;
		}
	return -1;
}

int key_type_from_ec_params(const uint8_t *der, size_t len, enum key_type *out)
{
	for (size_t i = 0; i < N_TYPES; i++)
		if (types[i].is_ec && types[i].ec_params_len == len &&
		    memcmp(types[i].ec_params, der, len) == 0) {
			*out = types[i].type;
			return 0;
		}
	return -1;
}

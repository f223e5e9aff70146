/*
 * profile — certificate profiles (YAML): what a certificate of one kind must contain.
 *
 * Owns: loading and validating a profile file (unknown keys, bad OIDs, bad
 * validity are refused with the key named), and the profile's rules: kind
 * (root, ca, end-entity), allowed key types, validity (days or a fixed
 * notAfter such as 99991231235959Z), basicConstraints/pathLen, keyUsage,
 * extendedKeyUsage, certificate policies (carried, allowed to --policy, the
 * voucher OIDs and who may carry them), SKI method, AKI. Does not own:
 * building certificates (certbuild) or checking CSRs (csr).
 */
#ifndef CEREMONY_PROFILE_H
#define CEREMONY_PROFILE_H

#include <limits.h>
#include <stdint.h>

#include "ceremony/keytype.h"
#include "ceremony/sizes.h"

#define PROFILE_MAX_BYTES (64 * 1024)
#define PROFILE_MAX_OIDS 16
#define PROFILE_OID_MAX 128
#define PROFILE_MAX_DAYS 36525 /* 100 years */
#define PROFILE_MAX_URIS 8
#define PROFILE_URI_MAX 256
#define PROFILE_MAX_ATTRS 16
#define PROFILE_ATTR_MAX 32
#define PROFILE_VALUE_MAX 128

enum profile_kind { PROFILE_ROOT, PROFILE_CA, PROFILE_END_ENTITY };
enum profile_ski { PROFILE_SKI_SHA1, PROFILE_SKI_SHA256_TRUNC, PROFILE_SKI_NONE };

/* keyUsage bits, as OpenSSL's KU_* values */
struct profile {
	char path[PATH_MAX];
	char name[NAME_SIZE];
	enum profile_kind kind;
	unsigned key_types;   /* bit (1 << enum key_type) */
	long validity_days;   /* 0 when not_after is set */
	char not_after[16];   /* "YYYYMMDDHHMMSSZ" or "" */
	int ca;               /* basicConstraints cA */
	long path_len;        /* -1: absent */
	unsigned key_usage;   /* KU_* bits */
	int n_eku;
	char eku[PROFILE_MAX_OIDS][PROFILE_OID_MAX];
	int n_policies; /* always carried */
	char policies[PROFILE_MAX_OIDS][PROFILE_OID_MAX];
	int n_allowed_policies; /* what --policy may add: nothing else */
	char allowed_policies[PROFILE_MAX_OIDS][PROFILE_OID_MAX];
	int n_voucher_policies; /* the PKI's voucher-authorization OIDs */
	char voucher_policies[PROFILE_MAX_OIDS][PROFILE_OID_MAX];
	int voucher_signer; /* the MASA voucher signer's profile: the only one carrying them */
	int validity_beyond_issuer; /* notAfter may be later than the issuer's (recorded) */
	enum profile_ski ski;
	int aki; /* include authorityKeyIdentifier (never for a self-signed root) */
	int policies_required; /* at least one policy, from the profile or --policy */
	int requests_pinned;   /* cert sign needs each request's key and subject pinned */
	int n_crldp;
	char crldp[PROFILE_MAX_URIS][PROFILE_URI_MAX];
	int n_aia_ca_issuers;
	char aia_ca_issuers[PROFILE_MAX_URIS][PROFILE_URI_MAX];
	int n_aia_ocsp;
	char aia_ocsp[PROFILE_MAX_URIS][PROFILE_URI_MAX];
	/* name constraints as "DNS:example.com", "email:example.com", "URI:.example.com" */
	int n_nc_permitted;
	char nc_permitted[PROFILE_MAX_URIS][PROFILE_URI_MAX];
	int n_nc_excluded;
	char nc_excluded[PROFILE_MAX_URIS][PROFILE_URI_MAX];
	/* subject: which attributes come from the CSR, which must be there or never be */
	int n_subject_from_csr;
	char subject_from_csr[PROFILE_MAX_ATTRS][PROFILE_ATTR_MAX];
	int n_subject_required;
	char subject_required[PROFILE_MAX_ATTRS][PROFILE_ATTR_MAX];
	int n_subject_forbidden;
	char subject_forbidden[PROFILE_MAX_ATTRS][PROFILE_ATTR_MAX];
	int n_subject_fixed;
	char subject_fixed_type[PROFILE_MAX_ATTRS][PROFILE_ATTR_MAX];
	char subject_fixed_value[PROFILE_MAX_ATTRS][PROFILE_VALUE_MAX];
	int allow_san; /* copy a subjectAltName the CSR requests (end-entity only) */
};

int profile_load(const char *path, struct profile *out) __attribute__((warn_unused_result));
const char *profile_kind_name(enum profile_kind k);
/* 1 when oid is in the list. */
int profile_oid_listed(const char *oid, const char (*list)[PROFILE_OID_MAX], int n);
/* Refuse a --policy OID the profile does not allow (CER_E_REFUSED, naming the rule). */
int profile_check_extra_policy(const struct profile *p, const char *oid)
	__attribute__((warn_unused_result));
/* Refuse a key type the profile does not allow. */
int profile_check_key_type(const struct profile *p, enum key_type t)
	__attribute__((warn_unused_result));

#endif

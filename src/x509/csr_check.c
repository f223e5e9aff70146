/*
 * csr_check: version, proof of possession, signature hash, key and attribute
 * checks, and csr_check() itself, which runs every check of docs/csr.md.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "ceremony/csr.h"
#include "ceremony/err.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "csr_int.h"

/* The curve of an EC SPKI (its namedCurve), or NID_undef; *explicit set for parameters. */
struct csr_spki {
	int alg_nid;   /* rsaEncryption, id-ecPublicKey, ... */
	char alg_oid[CSR_OID_TEXT_MAX];
	int param_type; /* V_ASN1_* of the AlgorithmIdentifier parameters (-1 absent) */
	int curve_nid;  /* EC: the named curve, else NID_undef */
	const unsigned char *point; /* EC: the subjectPublicKey bytes (owned by the request) */
	int point_len;
};

static void csr_spki_read(const struct csr *c, struct csr_spki *s)
{
	ASN1_OBJECT *alg = NULL;
	X509_ALGOR *pa = NULL;
	const ASN1_OBJECT *pobj = NULL;
	const void *pval = NULL;
	int ptype = V_ASN1_UNDEF;

	memset(s, 0, sizeof(*s));
	s->curve_nid = NID_undef;
	s->param_type = -1;
	if (X509_PUBKEY_get0_param(&alg, &s->point, &s->point_len, &pa,
				   X509_REQ_get_X509_PUBKEY(c->req)) <= 0) {
		s->alg_nid = NID_undef;
		/* a literal far shorter than CSR_OID_TEXT_MAX: never cut */
		text_format_cut(s->alg_oid, sizeof(s->alg_oid), "(none)");
		return;
	}
	s->alg_nid = OBJ_obj2nid(alg);
	csr_oid_text(alg, s->alg_oid, sizeof(s->alg_oid));
	X509_ALGOR_get0(&pobj, &ptype, &pval, pa);
	s->param_type = ptype == V_ASN1_UNDEF ? -1 : ptype;
	if (s->alg_nid == NID_X9_62_id_ecPublicKey && ptype == V_ASN1_OBJECT)
		s->curve_nid = OBJ_obj2nid(pval);
}

static const char *csr_curve_name(int nid)
{
	switch (nid) {
	case NID_X9_62_prime256v1: return "P-256";
	case NID_secp384r1: return "P-384";
	case NID_secp521r1: return "P-521";
	default: return NULL;
	}
}

/* BR 6.1.5 / RFC 5758 3.2: each allowed curve has its one hash. */
static int csr_curve_hash(int curve_nid)
{
	switch (curve_nid) {
	case NID_X9_62_prime256v1: return NID_sha256;
	case NID_secp384r1: return NID_sha384;
	case NID_secp521r1: return NID_sha512;
	default: return NID_undef;
	}
}

static void csr_check_version(const struct csr *c, struct csr_report *rep)
{
	long v = X509_REQ_get_version(c->req);

	/* RFC 2986 4.1: version is 0 (v1), the only one defined. */
	if (v == X509_REQ_VERSION_1)
		csr_verdict(rep, "version", 1, "v1 (0)");
	else
		csr_verdict(rep, "version", 0, "version is %ld; RFC 2986 defines only 0", v);
}

static void csr_check_signature(const struct csr *c, struct csr_report *rep)
{
	int ok;

	if (c->pkey == NULL) {
		csr_verdict(rep, "self-signature", 0, "cannot verify: the key does not decode");
		return;
	}
	ok = X509_REQ_verify(c->req, c->pkey);
	ERR_clear_error();
	if (ok == 1)
		csr_verdict(rep, "self-signature", 1, "proof of possession");
	else
		csr_verdict(rep, "self-signature", 0,
			    "the signature does not verify with the request's own key");
}

/* RFC 4055 3.1: PSS with SHA-256/384/512 and MGF1 on the same hash. */
static int csr_pss_hash(const X509_ALGOR *alg)
{
	const ASN1_OBJECT *obj = NULL;
	const void *val = NULL;
	int type = V_ASN1_UNDEF, md = NID_undef, mgf_md = NID_undef;
	RSA_PSS_PARAMS *pss;
	X509_ALGOR *mgf_hash = NULL;

	X509_ALGOR_get0(&obj, &type, &val, alg);
	if (type != V_ASN1_SEQUENCE)
		return NID_undef;
	pss = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_PSS_PARAMS), alg->parameter);
	if (pss == NULL)
		return NID_undef;
	/* an absent hashAlgorithm or MGF hash means SHA-1 (RFC 4055 3.1) */
	if (pss->hashAlgorithm != NULL)
		md = OBJ_obj2nid(pss->hashAlgorithm->algorithm);
	if (pss->maskGenAlgorithm != NULL &&
	    OBJ_obj2nid(pss->maskGenAlgorithm->algorithm) == NID_mgf1 &&
	    (mgf_hash = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR),
						  pss->maskGenAlgorithm->parameter)) != NULL)
		mgf_md = OBJ_obj2nid(mgf_hash->algorithm);
	X509_ALGOR_free(mgf_hash);
	RSA_PSS_PARAMS_free(pss);
	return md == mgf_md ? md : NID_undef;
}

static int csr_hash_strong(int md)
{
	return md == NID_sha256 || md == NID_sha384 || md == NID_sha512;
}

static void csr_check_signature_hash(const struct csr *c, const struct csr_spki *s,
				     struct csr_report *rep)
{
	const ASN1_BIT_STRING *sig = NULL;
	const X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *obj = NULL;
	const void *val = NULL;
	char oid[CSR_OID_TEXT_MAX];
	int type = V_ASN1_UNDEF, nid, md = NID_undef, pk = NID_undef;

	X509_REQ_get0_signature(c->req, &sig, &alg);
	X509_ALGOR_get0(&obj, &type, &val, alg);
	nid = OBJ_obj2nid(obj);
	csr_oid_text(obj, oid, sizeof(oid));
	if (nid == NID_rsassaPss) {
		md = csr_pss_hash(alg);
		pk = NID_rsaEncryption;
	} else if (!OBJ_find_sigid_algs(nid, &md, &pk))
		md = pk = NID_undef;
	if (md == NID_sha1 || md == NID_md5 || md == NID_md4 || md == NID_md2) {
		/* BR 7.1.3.2: SHA-1 and MD5 signatures are forbidden. */
		csr_verdict(rep, "signature-hash", 0, "signed with %s, which is forbidden",
			    OBJ_nid2sn(md));
		return;
	}
	if (!csr_hash_strong(md)) {
		csr_verdict(rep, "signature-hash", 0, "signature algorithm %s is not allowed", oid);
		return;
	}
	if (s->alg_nid == NID_X9_62_id_ecPublicKey) {
		if (pk != NID_X9_62_id_ecPublicKey || csr_curve_hash(s->curve_nid) != md)
			csr_verdict(rep, "signature-hash", 0, "%s does not match the key (%s wants %s)",
				    OBJ_nid2sn(nid),
				    csr_curve_name(s->curve_nid) ? csr_curve_name(s->curve_nid)
								  : "an unsupported curve",
				    csr_curve_hash(s->curve_nid) != NID_undef
					    ? OBJ_nid2sn(csr_curve_hash(s->curve_nid))
					    : "nothing");
		else if (type != V_ASN1_UNDEF) /* RFC 5758 3.2 */
			csr_verdict(rep, "signature-hash", 0, "ECDSA parameters must be absent");
		else
			csr_verdict(rep, "signature-hash", 1, "%s for %s", OBJ_nid2sn(nid),
				    csr_curve_name(s->curve_nid));
		return;
	}
	if (s->alg_nid == NID_rsaEncryption && pk == NID_rsaEncryption) {
		if (nid != NID_rsassaPss && type != V_ASN1_NULL) /* RFC 4055 5 */
			csr_verdict(rep, "signature-hash", 0, "PKCS#1 v1.5 parameters must be NULL");
		else
			csr_verdict(rep, "signature-hash", 1, "%s with %s",
				    nid == NID_rsassaPss ? "RSASSA-PSS" : OBJ_nid2sn(nid),
				    OBJ_nid2sn(md));
		return;
	}
	csr_verdict(rep, "signature-hash", 0, "signature algorithm %s does not match the key", oid);
}

static void csr_check_key_algorithm(const struct csr_spki *s, struct csr_report *rep)
{
	if (s->alg_nid == NID_rsaEncryption && s->param_type != V_ASN1_NULL)
		csr_verdict(rep, "key-algorithm", 0, "rsaEncryption parameters must be NULL "
						     "(RFC 3279 2.3.1)");
	else if (s->alg_nid == NID_rsaEncryption || s->alg_nid == NID_X9_62_id_ecPublicKey)
		csr_verdict(rep, "key-algorithm", 1, "%s", OBJ_nid2sn(s->alg_nid));
	else
		csr_verdict(rep, "key-algorithm", 0,
			    "key algorithm %s is not allowed (RSA or EC only)", s->alg_oid);
}

static void csr_check_key_curve(const struct csr *c, const struct csr_spki *s,
				struct csr_report *rep)
{
	const char *name = csr_curve_name(s->curve_nid);
	int field_bytes;

	(void)c;
	if (s->param_type == V_ASN1_SEQUENCE) {
		/* RFC 5480 2.1.1: namedCurve only; BR 6.1.5 lists named curves. */
		csr_verdict(rep, "key-curve", 0, "explicit curve parameters are not allowed");
		return;
	}
	if (s->param_type != V_ASN1_OBJECT) {
		csr_verdict(rep, "key-curve", 0, "the curve is not named");
		return;
	}
	if (name == NULL) {
		csr_verdict(rep, "key-curve", 0, "curve %s is not allowed (P-256, P-384, P-521)",
			    s->curve_nid != NID_undef ? OBJ_nid2sn(s->curve_nid) : "unknown");
		return;
	}
	/* Uncompressed points only (RFC 5480 2.2), so one key has one SPKI and one hash. */
	field_bytes = s->curve_nid == NID_secp521r1 ? 66 : s->curve_nid == NID_secp384r1 ? 48 : 32;
	if (s->point_len != 1 + 2 * field_bytes || s->point[0] != 0x04)
		csr_verdict(rep, "key-curve", 0, "%s point is not in uncompressed form", name);
	else
		csr_verdict(rep, "key-curve", 1, "%s", name);
}

static void csr_check_rsa(const struct csr *c, struct csr_report *rep)
{
	BIGNUM *e = NULL;
	int bits;

	if (c->pkey == NULL || !EVP_PKEY_is_a(c->pkey, "RSA")) {
		csr_verdict(rep, "key-size", 0, "the RSA key does not decode");
		csr_verdict(rep, "key-exponent", 0, "the RSA key does not decode");
		return;
	}
	bits = EVP_PKEY_get_bits(c->pkey);
	/* BR 6.1.5: at least 2048 bits. */
	if (bits < CSR_RSA_MIN_BITS || bits > CSR_RSA_MAX_BITS)
		csr_verdict(rep, "key-size", 0, "RSA key of %d bits (allowed: %d to %d)", bits,
			    CSR_RSA_MIN_BITS, CSR_RSA_MAX_BITS);
	else
		csr_verdict(rep, "key-size", 1, "RSA %d bits", bits);
	/* BR 6.1.6: the exponent is an odd number of at least 3. */
	if (EVP_PKEY_get_bn_param(c->pkey, OSSL_PKEY_PARAM_RSA_E, &e) <= 0)
		csr_verdict(rep, "key-exponent", 0, "no public exponent");
	else if (!BN_is_odd(e) || BN_num_bits(e) < 2)
		csr_verdict(rep, "key-exponent", 0, "public exponent must be odd and at least 3");
	else
		csr_verdict(rep, "key-exponent", 1, "odd, at least 3");
	BN_free(e);
	ERR_clear_error();
}

/*
 * BR 6.1.6: EC point on the curve, not infinity, coordinates in range; RSA sanity.
 * P-256, P-384 and P-521 have prime order (cofactor 1): every point on the curve
 * but infinity has order n, so the full check's n x Q = infinity (a scalar
 * multiplication, as costly as a signature check) proves nothing the quick check
 * (SP 800-56A 5.6.2.3.3 steps 1-3: not infinity, in range, on the curve) has not; other keys get
 * the full check.
 */
static void csr_check_key_public(const struct csr *c, const struct csr_spki *s,
				 struct csr_report *rep)
{
	EVP_PKEY_CTX *ctx;
	int ok, prime_order = s->alg_nid == NID_X9_62_id_ecPublicKey && csr_curve_name(s->curve_nid) != NULL;

	if (c->pkey == NULL) {
		csr_verdict(rep, "key-public-check", 0, "the key does not decode: %s", c->key_error);
		return;
	}
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, c->pkey, NULL);
	ok = ctx != NULL && (prime_order ? EVP_PKEY_public_check_quick(ctx) : EVP_PKEY_public_check(ctx)) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	if (ok)
		csr_verdict(rep, "key-public-check", 1, "valid public key");
	else
		csr_verdict(rep, "key-public-check", 0, "the public key fails validation");
}

/* research/profiles.md §5.6: never certify the root's key or a key certified before. */
static void csr_check_key_reuse(const struct csr *c, const struct csr_policy *policy,
				struct csr_report *rep)
{
	uint8_t mine[SHA256_LEN], root[SHA256_LEN];
	EVP_PKEY *root_key;

	if (csr_spki_sha256(c, mine) != 0) {
		csr_verdict(rep, "key-reuse", 0, "cannot hash the key");
		return;
	}
	if (policy->root != NULL) {
		root_key = X509_get0_pubkey(policy->root);
		if (csr_cert_spki_sha256(policy->root, root) != 0 ||
		    CRYPTO_memcmp(mine, root, sizeof(mine)) == 0 ||
		    (root_key != NULL && c->pkey != NULL && EVP_PKEY_eq(root_key, c->pkey) == 1)) {
			csr_verdict(rep, "key-reuse", 0, "the request carries the root's own key");
			ERR_clear_error();
			return;
		}
	}
	for (size_t i = 0; i < policy->n_known_spki; i++) {
		if (CRYPTO_memcmp(mine, policy->known_spki[i], sizeof(mine)) == 0) {
			csr_verdict(rep, "key-reuse", 0, "this key was already certified");
			return;
		}
	}
	ERR_clear_error();
	csr_verdict(rep, "key-reuse", 1, "%s", policy->root != NULL ? "not the root's key, not seen"
								     : "not seen before");
}

/*
 * research/profiles.md §5.8: extensionRequest only, with one value. A
 * challengePassword is refused too: nothing here uses it, and a password on
 * removable media is one more secret to leak.
 */
static void csr_check_attributes(const struct csr *c, struct csr_report *rep)
{
	char oid[CSR_OID_TEXT_MAX];
	int n_ext = 0;

	for (int i = 0; i < X509_REQ_get_attr_count(c->req); i++) {
		X509_ATTRIBUTE *a = X509_REQ_get_attr(c->req, i);
		const ASN1_OBJECT *obj = X509_ATTRIBUTE_get0_object(a);

		csr_oid_text(obj, oid, sizeof(oid));
		if (OBJ_obj2nid(obj) != NID_ext_req) {
			csr_verdict(rep, "attributes", 0, "attribute %s%s is not allowed (only "
							  "extensionRequest)",
				    oid,
				    OBJ_obj2nid(obj) == NID_pkcs9_challengePassword
					    ? " (challengePassword)"
					    : "");
			return;
		}
		if (++n_ext > 1 || X509_ATTRIBUTE_count(a) != 1) {
			csr_verdict(rep, "attributes", 0, "extensionRequest must appear once with "
							  "one value");
			return;
		}
	}
	csr_verdict(rep, "attributes", 1, "%s", n_ext ? "extensionRequest only" : "none");
}

static void csr_check_key(const struct csr *c, const struct csr_policy *policy,
			  const struct csr_spki *s, struct csr_report *rep)
{
	csr_check_key_algorithm(s, rep);
	if (s->alg_nid == NID_X9_62_id_ecPublicKey)
		csr_check_key_curve(c, s, rep);
	else if (s->alg_nid == NID_rsaEncryption)
		csr_check_rsa(c, rep);
	csr_check_key_public(c, s, rep);
	csr_check_key_reuse(c, policy, rep);
}

/*
 * Profiles name ec-p256, ec-p384, rsa-3072, rsa-4096. P-521 is refused until
 * a profile can list it. RSA: a CA or root profile takes RSA keys of at least
 * the smallest RSA size it lists; an end-entity profile that lists any RSA
 * type takes RSA of at least 2048 bits (BR 6.1.5), since profiles cannot name
 * smaller RSA types.
 */
static void csr_check_profile_key(const struct csr *c, const struct profile *p,
				  const struct csr_spki *s, struct csr_report *rep)
{
	const unsigned rsa_types = (1u << KEY_RSA_3072) | (1u << KEY_RSA_4096);
	enum key_type t;
	int bits, min;

	if (s->alg_nid == NID_rsaEncryption && c->pkey != NULL) {
		bits = EVP_PKEY_get_bits(c->pkey);
		if (p->kind == PROFILE_END_ENTITY)
			min = CSR_RSA_MIN_BITS;
		else
			min = (p->key_types & (1u << KEY_RSA_3072)) ? 3072 : 4096;
		if (!(p->key_types & rsa_types))
			csr_verdict(rep, "profile-key-type", 0, "profile %s allows no RSA keys",
				    p->name);
		else if (bits < min)
			csr_verdict(rep, "profile-key-type", 0,
				    "RSA key of %d bits is below profile %s's %d", bits, p->name, min);
		else
			csr_verdict(rep, "profile-key-type", 1, "RSA %d allowed by %s", bits, p->name);
		return;
	}
	if (c->pkey == NULL) {
		csr_verdict(rep, "profile-key-type", 0, "the key does not decode");
		return;
	}
	if (csr_key_type(c, &t) != 0 || !(p->key_types & (1u << t))) {
		cer_err_clear();
		csr_verdict(rep, "profile-key-type", 0, "profile %s does not allow a %s key", p->name,
			    s->curve_nid != NID_undef && csr_curve_name(s->curve_nid)
				    ? csr_curve_name(s->curve_nid)
				    : "key of this type");
		return;
	}
	csr_verdict(rep, "profile-key-type", 1, "%s allowed by %s", key_type_name(t), p->name);
}

int csr_check(const struct csr *c, const struct csr_policy *policy, struct csr_report *report)
{
	static const struct csr_policy none = {NULL, NULL, NULL, 0};
	char names[CSR_MAX_CHECKS * CSR_CHECK_NAME_MAX];
	struct csr_spki s;

	if (policy == NULL)
		policy = &none;
	memset(report, 0, sizeof(*report));
	csr_spki_read(c, &s);
	csr_check_version(c, report);
	csr_check_signature(c, report);
	csr_check_signature_hash(c, &s, report);
	csr_check_key(c, policy, &s, report);
	if (policy->profile != NULL)
		csr_check_profile_key(c, policy->profile, &s, report);
	csr_check_attributes(c, report);
	csr_check_subject(c, policy, report);
	csr_check_extensions(c, policy, report);
	ERR_clear_error();
	if (report->n >= CSR_MAX_CHECKS)
		return cer_err(CER_E_INTERNAL, "%s: more checks than the report holds", c->name);
	if (report->n_failed == 0)
		return 0;
	csr_report_failed_names(report, names, sizeof(names));
	return cer_err(CER_E_REFUSED, "%s: refused: %d check%s failed: %s", c->name,
		       report->n_failed, report->n_failed == 1 ? "" : "s", names);
}

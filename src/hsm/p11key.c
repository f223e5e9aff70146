#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/p11key.h"
#include "ceremony/sizes.h"
#include "p11_int.h"

static int key_is_ec(enum key_type t)
{
	return key_type_info(t)->is_ec;
}

const char *p11key_mechanism_name(CK_ULONG mech)
{
	switch (mech) {
	case CKM_EC_KEY_PAIR_GEN: return "CKM_EC_KEY_PAIR_GEN";
	case CKM_RSA_PKCS_KEY_PAIR_GEN: return "CKM_RSA_PKCS_KEY_PAIR_GEN";
	case CK_UNAVAILABLE_INFORMATION: return "unavailable";
	default: return "other";
	}
}

int p11key_name_taken(struct p11_session *s, const char *label, const uint8_t *id,
		      size_t id_len, int *taken)
{
	CK_OBJECT_HANDLE h[4];
	size_t n = 0;
	int r;

	*taken = 0;
	if (label != NULL) {
		CK_ATTRIBUTE t[] = {{CKA_LABEL, (void *)label, strlen(label)}};
		if ((r = p11_objects_find(s, t, 1, h, 4, &n)) != 0)
			return r;
		*taken += (int)n;
	}
	if (id != NULL) {
		CK_ATTRIBUTE t[] = {{CKA_ID, (void *)id, id_len}};
		if ((r = p11_objects_find(s, t, 1, h, 4, &n)) != 0)
			return r;
		*taken += (int)n;
	}
	return 0;
}

int p11key_destroy(struct p11_session *s, const struct p11key *k, CK_RV *first)
{
	CK_RV a = CKR_OK, b = CKR_OK;

	/* The caller's error message stays: only the CK_RV comes back. */
	if (k->priv != CK_INVALID_HANDLE)
		a = s->f->C_DestroyObject(s->handle, k->priv);
	if (k->pub != CK_INVALID_HANDLE)
		b = s->f->C_DestroyObject(s->handle, k->pub);
	*first = a != CKR_OK ? a : b;
	return *first == CKR_OK ? 0 : CER_E_P11;
}

int p11key_discard(struct p11_session *s, const struct p11key *k)
{
	CK_RV destroy_rv;
	int gone = p11key_destroy(s, k, &destroy_rv) == 0;
	char id_hex[2 * sizeof(k->id) + 1];
	const char *name = p11_rv_name(destroy_rv);

	hex_encode(k->id, k->id_len < sizeof(k->id) ? k->id_len : sizeof(k->id), id_hex);
	if (destroy_rv == CKR_OK)
		cer_err_prefix("token \"%s\": key pair \"%s\" destroyed, nothing left: ",
			       s->token.label, k->label);
	else if (name != NULL)
		cer_err_prefix("token \"%s\": key pair \"%s\" (CKA_ID %s) is LEFT on the token, "
			       "destroying it failed (%s): ",
			       s->token.label, k->label, id_hex, name);
	else
		cer_err_prefix("token \"%s\": key pair \"%s\" (CKA_ID %s) is LEFT on the token, "
			       "destroying it failed (0x%lx): ",
			       s->token.label, k->label, id_hex, (unsigned long)destroy_rv);
	return gone ? 0 : CER_E_P11;
}

int p11key_policy_parse(const char *backup, enum p11key_policy *out)
{
	if (strcmp(backup, "wrap") == 0)
		*out = P11KEY_ROOT_WRAP;
	else if (strcmp(backup, "none") == 0)
		*out = P11KEY_ROOT_NONE;
	else
		return cer_err(CER_E_INPUT,
			       "unknown backup policy \"%s\": use wrap (exportable only under a "
			       "trusted KEK, for \"backup create\") or none (never extractable)",
			       backup);
	return 0;
}

const char *p11key_policy_name(enum p11key_policy p)
{
	switch (p) {
	case P11KEY_ROOT_WRAP: return "wrap";
	case P11KEY_ROOT_NONE: return "none";
	case P11KEY_WITNESS: return "witness";
	}
	return "?";
}

/* The evidence rules; a rule's index is its waiver bit. */
enum {
	RULE_TOKEN,
	RULE_PRIVATE,
	RULE_SENSITIVE,
	RULE_SIGN,
	RULE_DECRYPT,
	RULE_UNWRAP,
	RULE_DERIVE,
	RULE_SIGN_RECOVER,
	RULE_EXTRACTABLE,
	RULE_WRAP_WITH_TRUSTED,
	RULE_LOCAL,
	RULE_ALWAYS_SENSITIVE,
	RULE_NEVER_EXTRACTABLE,
	RULE_KEY_GEN_MECHANISM,
	RULE_COUNT
};

static const char *const rule_names[RULE_COUNT] = {
	"CKA_TOKEN",	       "CKA_PRIVATE",	     "CKA_SENSITIVE",	      "CKA_SIGN",
	"CKA_DECRYPT",	       "CKA_UNWRAP",	     "CKA_DERIVE",	      "CKA_SIGN_RECOVER",
	"CKA_EXTRACTABLE",     "CKA_WRAP_WITH_TRUSTED", "CKA_LOCAL",	      "CKA_ALWAYS_SENSITIVE",
	"CKA_NEVER_EXTRACTABLE", "CKA_KEY_GEN_MECHANISM",
};

#define WAIVED(w, rule) (((w) >> (rule)) & 1U)

int p11key_waiver_parse(const char *attr, unsigned *waivers)
{
	for (unsigned i = 0; i < RULE_COUNT; i++) {
		if (strcmp(attr, rule_names[i]) == 0) {
			/* Never waivable: they are what makes a key a signing-only token key. */
			if (i == RULE_TOKEN || i == RULE_PRIVATE || i == RULE_SENSITIVE ||
			    i == RULE_SIGN || i == RULE_EXTRACTABLE)
				return cer_err(CER_E_INPUT, "%s cannot be waived", attr);
			*waivers |= 1U << i;
			return 0;
		}
	}
	return cer_err(CER_E_INPUT,
		       "unknown waiver \"%s\": name the attribute the module cannot honour or does "
		       "not report (CKA_DECRYPT, CKA_UNWRAP, CKA_DERIVE, CKA_SIGN_RECOVER, "
		       "CKA_WRAP_WITH_TRUSTED, CKA_LOCAL, CKA_ALWAYS_SENSITIVE, "
		       "CKA_NEVER_EXTRACTABLE, CKA_KEY_GEN_MECHANISM)",
		       attr);
}

int p11key_waivers_parse_list(const char *list, unsigned *waivers)
{
	char name[NAME_SIZE];
	const char *p = list, *comma;
	size_t len;
	int r;

	if (strcmp(list, "none") == 0) /* for scripts: a value that waives nothing */
		return 0;
	while (*p != '\0') {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len >= sizeof(name))
			return cer_err(CER_E_INPUT, "--waive \"%s\": a comma-separated list of "
						    "attribute names (CKA_DECRYPT,...)",
				       list);
		memcpy(name, p, len);
		name[len] = '\0';
		if ((r = p11key_waiver_parse(name, waivers)) != 0)
			return r;
		p += len + (comma != NULL ? 1 : 0);
		if (comma != NULL && *p == '\0')
			return cer_err(CER_E_INPUT, "--waive \"%s\" ends with a comma", list);
	}
	return 0;
}

const char *p11key_waiver_name(unsigned waivers, size_t i)
{
	for (unsigned b = 0; b < RULE_COUNT; b++)
		if (WAIVED(waivers, b) && i-- == 0)
			return rule_names[b];
	return NULL;
}

void p11key_waivers_format(unsigned waivers, char *out, size_t size)
{
	const char *name;
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; (name = p11key_waiver_name(waivers, i)) != NULL; i++) {
		int n = snprintf(out + used, size - used, "%s%s", i > 0 ? "," : "", name);
		if (n < 0 || (size_t)n >= size - used) {
			out[used] = '\0';
			return;
		}
		used += (size_t)n;
	}
}

static int key_gen_mechanism_ok(CK_ULONG m)
{
	return m == CKM_EC_KEY_PAIR_GEN || m == CKM_RSA_PKCS_KEY_PAIR_GEN;
}

int p11key_evidence_check(const struct p11key_evidence *ev, enum p11key_policy policy,
			  int generated_here, unsigned waivers, unsigned *used)
{
	const int skip = 2; /* "not checked here" */
	const int never = policy != P11KEY_ROOT_WRAP;
	int kgm = ev->key_gen_mechanism == CK_UNAVAILABLE_INFORMATION
			  ? -1
			  : key_gen_mechanism_ok(ev->key_gen_mechanism);
	const struct {
		int got, want;
	} rules[RULE_COUNT] = {
		[RULE_TOKEN] = {ev->token, 1},
		[RULE_PRIVATE] = {ev->private_, 1},
		[RULE_SENSITIVE] = {ev->sensitive, 1},
		[RULE_SIGN] = {ev->sign, 1},
		[RULE_DECRYPT] = {ev->decrypt, 0},
		[RULE_UNWRAP] = {ev->unwrap, 0},
		[RULE_DERIVE] = {ev->derive, 0},
		[RULE_SIGN_RECOVER] = {ev->sign_recover, 0},
		/* Signing accepts either root policy: only generation asks for one. */
		[RULE_EXTRACTABLE] = {generated_here || policy == P11KEY_WITNESS ? ev->extractable
										 : skip,
				      policy == P11KEY_ROOT_WRAP ? 1 : 0},
		/* EXTRACTABLE is acceptable only together with WRAP_WITH_TRUSTED. */
		[RULE_WRAP_WITH_TRUSTED] = {ev->extractable == 1 ? ev->wrap_with_trusted : skip, 1},
		[RULE_LOCAL] = {generated_here ? ev->local : skip, 1},
		[RULE_ALWAYS_SENSITIVE] = {generated_here ? ev->always_sensitive : skip, 1},
		[RULE_NEVER_EXTRACTABLE] = {generated_here && never ? ev->never_extractable : skip, 1},
		[RULE_KEY_GEN_MECHANISM] = {generated_here ? kgm : skip, 1},
	};

	if (used != NULL)
		*used = 0;
	for (unsigned i = 0; i < RULE_COUNT; i++) {
		if (rules[i].got == skip || rules[i].got == rules[i].want)
			continue;
		if (WAIVED(waivers, i)) {
			if (used != NULL)
				*used |= 1U << i;
			continue;
		}
		if (i == RULE_KEY_GEN_MECHANISM && rules[i].got == 0)
			return cer_err(CER_E_REFUSED,
				       "the HSM reports CKA_KEY_GEN_MECHANISM = 0x%lx, expected a "
				       "key-pair generation mechanism, and no recorded waiver covers it",
				       (unsigned long)ev->key_gen_mechanism);
		return cer_err(CER_E_REFUSED,
			       "the HSM reports %s = %s, expected %s, and no recorded waiver covers "
			       "it",
			       rule_names[i],
			       rules[i].got < 0 ? "absent" : rules[i].got ? "TRUE" : "FALSE",
			       rules[i].want ? "TRUE" : "FALSE");
	}
	return 0;
}

#define WAIVER_APP "ceremony-key-waivers"

/* Store the waivers used beside the key: a private data object with its label. */
static int p11key_waivers_store(struct p11_session *s, const struct p11key *k, unsigned waivers,
				CK_OBJECT_HANDLE *obj)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	char text[P11KEY_WAIVERS_MAX * 32];

	*obj = CK_INVALID_HANDLE;
	if (waivers == 0)
		return 0;
	p11key_waivers_format(waivers, text, sizeof(text));
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_PRIVATE, &yes, sizeof(yes)},
		{CKA_LABEL, (void *)k->label, strlen(k->label)},
		{CKA_APPLICATION, (void *)WAIVER_APP, strlen(WAIVER_APP)},
		{CKA_VALUE, text, strlen(text)},
	};
	return p11_object_create(s, t, ARRAY_LEN(t), obj,
				 "token \"%s\": storing the waivers of key \"%s\"", s->token.label,
				 k->label);
}

int p11key_waivers_read(struct p11_session *s, const struct p11key *k, unsigned *waivers)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_APPLICATION, (void *)WAIVER_APP, strlen(WAIVER_APP)},
		{CKA_LABEL, (void *)k->label, strlen(k->label)},
	};
	CK_OBJECT_HANDLE h[2];
	uint8_t *v = NULL;
	size_t n = 0, len = 0;
	char *save = NULL, *tok;
	int r = 0;

	*waivers = 0;
	if ((r = p11_objects_find(s, t, 3, h, 2, &n)) != 0)
		return r;
	if (n == 0)
		return 0;
	if (n > 1)
		return cer_err(CER_E_REFUSED, "token \"%s\": key \"%s\" has several waiver records",
			       s->token.label, k->label);
	if ((r = p11_attr_get(s, h[0], CKA_VALUE, &v, &len)) != 0)
		return r;
	for (tok = strtok_r((char *)v, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		if ((r = p11key_waiver_parse(tok, waivers)) != 0) {
			cer_err_prefix("token \"%s\": key \"%s\"'s waiver record: ", s->token.label,
				       k->label);
			break;
		}
	free(v);
	return r;
}

/* A template being built. */
struct tmpl {
	CK_ATTRIBUTE a[16];
	CK_ULONG n;
};

static void tmpl_add(struct tmpl *t, CK_ATTRIBUTE_TYPE type, void *v, CK_ULONG len)
{
	if (t->n < sizeof(t->a) / sizeof(t->a[0])) {
		t->a[t->n].type = type;
		t->a[t->n].pValue = v;
		t->a[t->n].ulValueLen = len;
		t->n++;
	}
}

/* A boolean the policy asks for, left out when waived: the module then picks it. */
static void tmpl_bool(struct tmpl *t, CK_ATTRIBUTE_TYPE type, CK_BBOOL *v, unsigned waivers,
		      unsigned rule)
{
	if (!WAIVED(waivers, rule))
		tmpl_add(t, type, v, sizeof(*v));
}

int p11key_generate_possible(struct p11_module *m, const struct p11_token *t, enum key_type type)
{
	if (key_is_ec(type))
		return p11_mech_check(m, t, CKM_EC_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR,
				      key_type_info(type)->bits);
	return p11_mech_check(m, t, CKM_RSA_PKCS_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR,
			      key_type_info(type)->bits);
}

static void p11key_templates(struct tmpl *pt, struct tmpl *kt_, enum key_type type,
			     enum p11key_policy policy, unsigned waivers, const char *label,
			     uint8_t id[P11KEY_ID_LEN], CK_ULONG *bits, CK_OBJECT_CLASS *classes,
			     CK_KEY_TYPE *kt)
{
	static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	static uint8_t exponent[] = {0x01, 0x00, 0x01};
	size_t label_len = strlen(label);

	tmpl_add(pt, CKA_CLASS, &classes[0], sizeof(classes[0]));
	tmpl_add(pt, CKA_KEY_TYPE, kt, sizeof(*kt));
	tmpl_add(pt, CKA_TOKEN, &yes, sizeof(yes));
	tmpl_add(pt, CKA_PRIVATE, &no, sizeof(no));
	tmpl_add(pt, CKA_VERIFY, &yes, sizeof(yes));
	tmpl_bool(pt, CKA_ENCRYPT, &no, waivers, RULE_DECRYPT);
	tmpl_add(pt, CKA_WRAP, &no, sizeof(no));
	tmpl_bool(pt, CKA_DERIVE, &no, waivers, RULE_DERIVE);
	tmpl_add(pt, CKA_LABEL, (void *)label, label_len);
	tmpl_add(pt, CKA_ID, id, P11KEY_ID_LEN);
	if (key_is_ec(type)) {
		tmpl_add(pt, CKA_EC_PARAMS, (void *)key_type_info(type)->ec_params,
			 key_type_info(type)->ec_params_len);
	} else {
		tmpl_add(pt, CKA_MODULUS_BITS, bits, sizeof(*bits));
		tmpl_add(pt, CKA_PUBLIC_EXPONENT, exponent, sizeof(exponent));
	}
	/* DESIGN.md "Root key template": exportable only wrapped under an SO-trusted KEK. */
	tmpl_add(kt_, CKA_CLASS, &classes[1], sizeof(classes[1]));
	tmpl_add(kt_, CKA_KEY_TYPE, kt, sizeof(*kt));
	tmpl_add(kt_, CKA_TOKEN, &yes, sizeof(yes));
	tmpl_add(kt_, CKA_PRIVATE, &yes, sizeof(yes));
	tmpl_add(kt_, CKA_SENSITIVE, &yes, sizeof(yes));
	tmpl_add(kt_, CKA_EXTRACTABLE, policy == P11KEY_ROOT_WRAP ? &yes : &no, sizeof(yes));
	if (policy == P11KEY_ROOT_WRAP)
		tmpl_bool(kt_, CKA_WRAP_WITH_TRUSTED, &yes, waivers, RULE_WRAP_WITH_TRUSTED);
	tmpl_add(kt_, CKA_SIGN, &yes, sizeof(yes));
	tmpl_bool(kt_, CKA_SIGN_RECOVER, &no, waivers, RULE_SIGN_RECOVER);
	tmpl_bool(kt_, CKA_DECRYPT, &no, waivers, RULE_DECRYPT);
	tmpl_bool(kt_, CKA_UNWRAP, &no, waivers, RULE_UNWRAP);
	tmpl_bool(kt_, CKA_DERIVE, &no, waivers, RULE_DERIVE);
	tmpl_add(kt_, CKA_LABEL, (void *)label, label_len);
	tmpl_add(kt_, CKA_ID, id, P11KEY_ID_LEN);
}

int p11key_generate(struct p11_session *s, const char *label, enum key_type type,
		    enum p11key_policy policy, unsigned waivers, struct p11key *out,
		    struct p11key_evidence *ev)
{
	CK_OBJECT_CLASS classes[2] = {CKO_PUBLIC_KEY, CKO_PRIVATE_KEY};
	CK_KEY_TYPE kt = key_is_ec(type) ? CKK_EC : CKK_RSA;
	CK_ULONG bits = key_type_info(type)->bits;
	CK_MECHANISM mech = {key_is_ec(type) ? CKM_EC_KEY_PAIR_GEN : CKM_RSA_PKCS_KEY_PAIR_GEN,
			     NULL, 0};
	const char *what = policy == P11KEY_WITNESS ? "witness key" : "key";
	uint8_t id[P11KEY_ID_LEN];
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE, wobj;
	struct tmpl pt = {.n = 0}, kt_ = {.n = 0};
	size_t label_len = strlen(label);
	unsigned used = 0;
	char names[P11KEY_WAIVERS_MAX * 32];
	CK_RV rv;
	int r, taken;

	if (label_len == 0 || label_len > P11KEY_LABEL_MAX)
		return cer_err(CER_E_INPUT, "key label must be 1 to %d bytes", P11KEY_LABEL_MAX);
	if (policy == P11KEY_WITNESS && type != KEY_EC_P256)
		return cer_err(CER_E_INTERNAL, "a witness key is ec-p256");
	/* A random CKA_ID: tools that pair keys by ID alone (libp11, OpenSC) must find this pair. */
	if ((r = p11_random_mixed(s, id, sizeof(id))) != 0)
		return r;
	if ((r = p11key_name_taken(s, label, id, sizeof(id), &taken)) != 0)
		return r;
	if (taken)
		return cer_err(CER_E_EXISTS,
			       "token \"%s\" already has an object labelled \"%s\"; no key was "
			       "generated",
			       s->token.label, label);
	p11key_templates(&pt, &kt_, type, policy, waivers, label, id, &bits, classes, &kt);
	rv = s->f->C_GenerateKeyPair(s->handle, &mech, pt.a, pt.n, kt_.a, kt_.n, &pub, &priv);
	if (rv != CKR_OK)
		return p11_err(rv, "token \"%s\": generating %s %s \"%s\" (policy %s); nothing was "
				   "generated",
			       s->token.label, key_type_name(type), what, label,
			       p11key_policy_name(policy));
	memset(out, 0, sizeof(*out));
	out->type = type;
	out->priv = priv;
	out->pub = pub;
	memcpy(out->id, id, sizeof(id));
	out->id_len = sizeof(id);
	memcpy(out->label, label, label_len + 1);
	if ((r = p11key_evidence_read(s, out, ev)) != 0 ||
	    (r = p11key_evidence_check(ev, policy, 1, waivers, &used)) != 0)
		goto fail;
	if (used != waivers) {
		p11key_waivers_format(waivers & ~used, names, sizeof(names));
		r = cer_err(CER_E_INPUT,
			    "waiver %s not needed: the HSM honours it (a waiver must cover exactly "
			    "what the module cannot do)",
			    names);
		goto fail;
	}
	if ((r = p11key_waivers_store(s, out, used, &wobj)) != 0)
		goto fail;
	return 0;
fail:
	/* Not what was asked: do not leave a key that could be mistaken for the root. */
	if (p11key_discard(s, out) == 0)
		out->priv = out->pub = CK_INVALID_HANDLE;
	/* else out still names the pair, so the caller can record it */
	return r;
}

int p11key_find_signer(struct p11_session *s, const char *label, struct p11key *out,
		       unsigned *waivers_used)
{
	struct p11key_evidence ev;
	unsigned waivers = 0, used = 0;
	int r;

	if (waivers_used == NULL)
		waivers_used = &used;
	*waivers_used = 0;
	if ((r = p11key_find(s, label, out)) != 0 || (r = p11key_evidence_read(s, out, &ev)) != 0 ||
	    (r = p11key_waivers_read(s, out, &waivers)) != 0)
		return r;
	/* Issue 12 item 2: never sign with a key whose evidence fails, unless waived. */
	r = p11key_evidence_check(&ev, ev.extractable == 1 ? P11KEY_ROOT_WRAP : P11KEY_ROOT_NONE,
				  ev.local == 1, waivers, waivers_used);
	if (r != 0)
		cer_err_prefix("token \"%s\": refusing to sign with key \"%s\": ", s->token.label,
			       label);
	return r;
}

int p11key_evidence_read(struct p11_session *s, const struct p11key *k,
			 struct p11key_evidence *ev)
{
	const struct {
		CK_ATTRIBUTE_TYPE type;
		int *field;
	} bools[] = {
		{CKA_TOKEN, &ev->token},
		{CKA_PRIVATE, &ev->private_},
		{CKA_SENSITIVE, &ev->sensitive},
		{CKA_EXTRACTABLE, &ev->extractable},
		{CKA_WRAP_WITH_TRUSTED, &ev->wrap_with_trusted},
		{CKA_SIGN, &ev->sign},
		{CKA_DECRYPT, &ev->decrypt},
		{CKA_UNWRAP, &ev->unwrap},
		{CKA_DERIVE, &ev->derive},
		{CKA_SIGN_RECOVER, &ev->sign_recover},
		{CKA_LOCAL, &ev->local},
		{CKA_ALWAYS_SENSITIVE, &ev->always_sensitive},
		{CKA_NEVER_EXTRACTABLE, &ev->never_extractable},
	};
	int r;

	for (size_t i = 0; i < ARRAY_LEN(bools); i++)
		if ((r = p11_attr_bool(s, k->priv, bools[i].type, bools[i].field)) != 0)
			return r;
	return p11_attr_ulong(s, k->priv, CKA_KEY_GEN_MECHANISM, &ev->key_gen_mechanism);
}

int p11key_find(struct p11_session *s, const char *label, struct p11key *out)
{
	CK_OBJECT_CLASS priv_class = CKO_PRIVATE_KEY, pub_class = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE priv_t[] = {{CKA_CLASS, &priv_class, sizeof(priv_class)},
				 {CKA_LABEL, (void *)label, strlen(label)}};
	CK_OBJECT_HANDLE h[2];
	CK_ULONG kt = 0;
	uint8_t *id = NULL, *params = NULL;
	size_t n = 0, id_len = 0, params_len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (strlen(label) > P11KEY_LABEL_MAX)
		return cer_err(CER_E_INPUT, "key label longer than %d bytes", P11KEY_LABEL_MAX);
	if ((r = p11_objects_find(s, priv_t, 2, h, 2, &n)) != 0)
		return r;
	if (n == 0)
		return cer_err(CER_E_NOTFOUND, "token \"%s\" has no private key labelled \"%s\"",
			       s->token.label, label);
	if (n > 1)
		return cer_err(CER_E_INPUT, "token \"%s\" has several private keys labelled \"%s\"",
			       s->token.label, label);
	out->priv = h[0];
	memcpy(out->label, label, strlen(label) + 1);
	if ((r = p11_attr_get(s, out->priv, CKA_ID, &id, &id_len)) != 0)
		goto out;
	if (id_len == 0 || id_len > sizeof(out->id)) {
		r = cer_err(CER_E_INPUT, "key \"%s\" has no usable CKA_ID", label);
		goto out;
	}
	memcpy(out->id, id, id_len);
	out->id_len = id_len;
	if ((r = p11_attr_ulong(s, out->priv, CKA_KEY_TYPE, &kt)) != 0)
		goto out;
	if (kt == CKK_EC) {
		if ((r = p11_attr_get(s, out->priv, CKA_EC_PARAMS, &params, &params_len)) != 0)
			goto out;
		if (key_type_from_ec_params(params, params_len, &out->type) != 0) {
			r = cer_err(CER_E_INPUT, "key \"%s\" is on a curve this tool does not use",
				    label);
			goto out;
		}
	} else if (kt == CKK_RSA) {
		/* CKA_MODULUS is public even on a sensitive private key. */
		if ((r = p11_attr_get(s, out->priv, CKA_MODULUS, &params, &params_len)) != 0)
			goto out;
		if (key_type_from_rsa_bits((unsigned)(params_len * 8), &out->type) != 0) {
			r = cer_err(CER_E_INPUT, "key \"%s\" is RSA-%zu, a size this tool does not use",
				    label, params_len * 8);
			goto out;
		}
	} else {
		r = cer_err(CER_E_INPUT, "key \"%s\" is neither EC nor RSA", label);
		goto out;
	}
	{
		CK_ATTRIBUTE pub_t[] = {{CKA_CLASS, &pub_class, sizeof(pub_class)},
					{CKA_ID, out->id, out->id_len}};
		if ((r = p11_objects_find(s, pub_t, 2, h, 2, &n)) != 0)
			goto out;
		out->pub = n == 1 ? h[0] : CK_INVALID_HANDLE;
	}
	r = 0;
out:
	free(id);
	free(params);
	return r;
}

/* CKA_EC_POINT is a DER OCTET STRING holding the uncompressed point. */
static int ec_point_unwrap(const uint8_t *der, size_t len, const uint8_t **pt, size_t *ptlen)
{
	const unsigned char *p = der;
	ASN1_OCTET_STRING *os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)len);
	int r = 0;

	if (os == NULL || p != der + len)
		r = cer_err(CER_E_P11, "CKA_EC_POINT is not a DER OCTET STRING");
	else {
		*pt = der + (len - (size_t)ASN1_STRING_length(os));
		*ptlen = (size_t)ASN1_STRING_length(os);
	}
	ASN1_OCTET_STRING_free(os);
	return r;
}

static int spki_from_params(OSSL_PARAM_BLD *bld, const char *keytype, uint8_t **der,
			    size_t *len)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, keytype, NULL);
	EVP_PKEY *pkey = NULL;
	unsigned char *buf = NULL;
	int n, r = CER_E_CRYPTO;

	if (params == NULL || pctx == NULL || EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot build the public key from the token's values");
		goto out;
	}
	n = i2d_PUBKEY(pkey, &buf);
	if (n <= 0) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot encode the public key");
		goto out;
	}
	*der = buf;
	*len = (size_t)n;
	r = 0;
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	return r;
}

int p11key_spki(struct p11_session *s, const struct p11key *k, uint8_t **der, size_t *len)
{
	OSSL_PARAM_BLD *bld = NULL;
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0, ptlen = 0;
	const uint8_t *pt = NULL;
	BIGNUM *n = NULL, *e = NULL;
	int r;

	*der = NULL;
	*len = 0;
	if (k->pub == CK_INVALID_HANDLE)
		return cer_err(CER_E_NOTFOUND, "key \"%s\" has no public-key object on token \"%s\"",
			       k->label, s->token.label);
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if (key_is_ec(k->type)) {
		if ((r = p11_attr_get(s, k->pub, CKA_EC_POINT, &a, &alen)) != 0 ||
		    (r = ec_point_unwrap(a, alen, &pt, &ptlen)) != 0)
			goto out;
		if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
						     k->type == KEY_EC_P256 ? "P-256" : "P-384", 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, ptlen)) {
			r = cer_err(CER_E_CRYPTO, "cannot build the EC public key");
			goto out;
		}
		r = spki_from_params(bld, "EC", der, len);
	} else {
		if ((r = p11_attr_get(s, k->pub, CKA_MODULUS, &a, &alen)) != 0 ||
		    (r = p11_attr_get(s, k->pub, CKA_PUBLIC_EXPONENT, &b, &blen)) != 0)
			goto out;
		n = BN_bin2bn(a, (int)alen, NULL);
		e = BN_bin2bn(b, (int)blen, NULL);
		if (n == NULL || e == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
			r = cer_err(CER_E_CRYPTO, "cannot build the RSA public key");
			goto out;
		}
		r = spki_from_params(bld, "RSA", der, len);
	}
out:
	BN_free(n);
	BN_free(e);
	free(a);
	free(b);
	OSSL_PARAM_BLD_free(bld);
	return r;
}

int p11key_public_read(struct p11_session *s, const struct p11key *k, struct p11key_public *out)
{
	const unsigned char *p;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = p11key_spki(s, k, &out->spki, &out->spki_len)) != 0)
		return r;
	if (!EVP_Digest(out->spki, out->spki_len, out->spki_sha256, NULL, EVP_sha256(), NULL)) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot hash the public key of \"%s\"", k->label);
		goto out;
	}
	hex_encode(out->spki_sha256, sizeof(out->spki_sha256), out->spki_sha256_hex);
	p = out->spki;
	if ((out->pkey = d2i_PUBKEY(NULL, &p, (long)out->spki_len)) == NULL) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot decode the public key of \"%s\"", k->label);
		goto out;
	}
	return 0;
out:
	p11key_public_free(out);
	return r;
}

void p11key_public_free(struct p11key_public *p)
{
	if (p == NULL)
		return;
	EVP_PKEY_free(p->pkey);
	free(p->spki);
	memset(p, 0, sizeof(*p));
}

#include <stdlib.h>
#include <string.h>

#include <libp11.h>
#include <openssl/err.h>

#include "ceremony/err.h"
#include "ceremony/hsmkey.h"

struct hsmkey {
	PKCS11_CTX *ctx;
	PKCS11_SLOT *slots;
	unsigned int nslots;
	EVP_PKEY *pkey;
};

const EVP_MD *hsmkey_digest(enum key_type t)
{
	return EVP_get_digestbynid(key_type_info(t)->digest_nid);
}

int hsmkey_open(const char *module_path, const struct p11_token *token, const struct p11key *key,
		struct hsmkey **out)
{
	struct hsmkey *h;
	PKCS11_SLOT *slot = NULL;
	PKCS11_KEY *keys = NULL;
	unsigned int nkeys = 0;
	int r;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	h->ctx = PKCS11_CTX_new();
	if (h->ctx == NULL) {
		r = cer_err(CER_E_NOMEM, "libp11: out of memory");
		goto fail;
	}
	/* Accepts CKR_CRYPTOKI_ALREADY_INITIALIZED: our p11 module loaded it first. */
	if (PKCS11_CTX_load(h->ctx, module_path) != 0) {
		r = cer_err_ssl(CER_E_P11, "libp11 cannot load %s", module_path);
		goto fail;
	}
	if (PKCS11_enumerate_slots(h->ctx, &h->slots, &h->nslots) != 0) {
		r = cer_err_ssl(CER_E_P11, "libp11 cannot list slots of %s", module_path);
		goto fail;
	}
	for (unsigned int i = 0; i < h->nslots; i++) {
		PKCS11_TOKEN *t = h->slots[i].token;
		if (t != NULL && t->serialnr != NULL && t->label != NULL &&
		    strcmp(t->serialnr, token->serial) == 0 && strcmp(t->label, token->label) == 0)
			slot = &h->slots[i];
	}
	if (slot == NULL) {
		r = cer_err(CER_E_NOTFOUND, "libp11 does not see token \"%s\" (serial %s)",
			    token->label, token->serial);
		goto fail;
	}
	if (PKCS11_enumerate_keys(slot->token, &keys, &nkeys) != 0) {
		r = cer_err_ssl(CER_E_P11, "libp11 cannot list the keys of token \"%s\"",
				token->label);
		goto fail;
	}
	for (unsigned int i = 0; i < nkeys && h->pkey == NULL; i++) {
		if (keys[i].isPrivate && keys[i].id_len == key->id_len &&
		    memcmp(keys[i].id, key->id, key->id_len) == 0)
			h->pkey = PKCS11_get_private_key(&keys[i]);
	}
	ERR_clear_error(); /* modules can leave unrelated entries (pkcs11-probe Q5.11) */
	if (h->pkey == NULL) {
		r = cer_err(CER_E_NOTFOUND,
			    "libp11 finds no private key with the CKA_ID of \"%s\" on token \"%s\" "
			    "(is the user logged in?)",
			    key->label, token->label);
		goto fail;
	}
	*out = h;
	return 0;
fail:
	hsmkey_free(h);
	return r;
}

EVP_PKEY *hsmkey_pkey(struct hsmkey *h)
{
	return h->pkey;
}

void hsmkey_free(struct hsmkey *h)
{
	if (h == NULL)
		return;
	EVP_PKEY_free(h->pkey);
	if (h->slots != NULL)
		PKCS11_release_all_slots(h->ctx, h->slots, h->nslots);
	/* No PKCS11_CTX_unload: it would C_Finalize the module under our p11 code. */
	if (h->ctx != NULL)
		PKCS11_CTX_free(h->ctx);
	free(h);
}

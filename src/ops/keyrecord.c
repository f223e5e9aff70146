/* keyrecord: a token and a key as transcript records name them. */
#include "ceremony/keyrecord.h"

/* Everything that names a token: its serial alone may be shared (tpm2-pkcs11). */
json_t *keyrecord_token(const struct p11_token *t)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "label", t->label, "serial", t->serial,
			 "model", t->model, "manufacturer", t->manufacturer, "slot_description",
			 t->slot_description, "serial_unique", p11_token_serial_is_unique(t));
}

json_t *keyrecord_evidence(const struct p11key_evidence *ev)
{
	const struct {
		const char *name;
		int v;
	} f[] = {{"CKA_TOKEN", ev->token},
		 {"CKA_PRIVATE", ev->private_},
		 {"CKA_SENSITIVE", ev->sensitive},
		 {"CKA_EXTRACTABLE", ev->extractable},
		 {"CKA_WRAP_WITH_TRUSTED", ev->wrap_with_trusted},
		 {"CKA_SIGN", ev->sign},
		 {"CKA_DECRYPT", ev->decrypt},
		 {"CKA_UNWRAP", ev->unwrap},
		 {"CKA_DERIVE", ev->derive},
		 {"CKA_SIGN_RECOVER", ev->sign_recover},
		 {"CKA_LOCAL", ev->local},
		 {"CKA_ALWAYS_SENSITIVE", ev->always_sensitive},
		 {"CKA_NEVER_EXTRACTABLE", ev->never_extractable}};
	json_t *o = json_object();

	for (size_t i = 0; o != NULL && i < sizeof(f) / sizeof(f[0]); i++)
		json_object_set_new(o, f[i].name,
				    f[i].v < 0 ? json_null() : json_boolean(f[i].v));
	if (o != NULL)
		json_object_set_new(o, "CKA_KEY_GEN_MECHANISM",
				    json_string(p11key_mechanism_name(ev->key_gen_mechanism)));
	return o;
}

json_t *keyrecord_waivers(unsigned waivers)
{
	json_t *a = json_array();
	const char *name;

	for (size_t i = 0; a != NULL && (name = p11key_waiver_name(waivers, i)) != NULL; i++)
		json_array_append_new(a, json_string(name));
	return a;
}

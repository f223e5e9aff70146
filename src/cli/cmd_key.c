/* ceremony key generate | show */
#include <stdio.h>

#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/rootkey.h"

struct key_opts {
	const char *token;
	const char *label;
	const char *type;
	const char *backup;
	const char *waive[P11KEY_WAIVERS_MAX];
	int nwaivers;
};

static const char generate_usage[] =
	"usage: ceremony key generate --token T --label L --type TYPE --transcript FILE [options]\n"
	"\nGenerates a key pair inside the HSM with the root-key template: token object,\n"
	"private, sensitive, extractable only wrapped under a trusted KEK\n"
	"(CKA_WRAP_WITH_TRUSTED), signing only, a random CKA_ID. Reads back CKA_LOCAL,\n"
	"CKA_ALWAYS_SENSITIVE, CKA_EXTRACTABLE, CKA_WRAP_WITH_TRUSTED, CKA_KEY_GEN_MECHANISM\n"
	"and refuses (destroying the pair) if the HSM did not do what was asked.\n"
	"Refuses a label or ID already used by any object on the token, except a key\n"
	"pair a failed run left (an hsm.leftover record beside the transcript names this\n"
	"token, label and CKA_ID, and no later key.generate or backup.recover does): that\n"
	"pair is removed first, and its removal recorded (hsm.leftover_removed). Checks that the\n"
	"token offers the key type (mechanism, size or curve) before asking the PIN.\n";

static const struct cli_opt generate_opts[] = {
	{.name = "token", .arg = "T", .val = 't',
	 .help = "token label or PKCS#11 URI (pkcs11:token=...)",
	 .man = "Token label or PKCS#11 URI\n"
		".RB ( pkcs11:token=... )."},
	{.name = "label", .arg = "L", .val = 'l',
	 .help = "the key's label"},
	{.name = "type", .arg = "TYPE", .val = 'k',
	 .help = "ec-p384, ec-p256, rsa-3072 or rsa-4096",
	 .man = ".BR ec-p384 ,\n"
		".BR ec-p256 ,\n"
		".B rsa-3072\n"
		"or\n"
		".BR rsa-4096 ."},
	{.name = "backup", .arg = "POLICY", .val = 'b',
	 .help = "wrap (default): extractable only under a trusted KEK, for\n"
		 "\"backup create\"; none: never extractable, no backup by this\n"
		 "tool (tokens without key wrap, or cloned by the vendor's means)",
	 .man = ".B wrap\n"
		"(default) or\n"
		".BR none ."},
	{.name = "waive", .arg = "CKA_X[,CKA_Y]", .val = 'w',
	 .help = "accept that the module cannot honour or does not report\n"
		 "attribute CKA_X (e.g. CKA_DECRYPT on tpm2-pkcs11); repeat or\n"
		 "list with commas (\"none\" waives nothing, for scripts); recorded,\n"
		 "stored beside the key, refused if the key does not need it",
	 .man = "An attribute the module cannot honour or does not report, e.g.\n"
		".B CKA_DECRYPT\n"
		"on tpm2-pkcs11; repeat, or list with commas;\n"
		".B none\n"
		"waives nothing (for scripts).\n"
		".BR CKA_TOKEN ,\n"
		".BR CKA_PRIVATE ,\n"
		".BR CKA_SENSITIVE ,\n"
		".B CKA_SIGN\n"
		"and\n"
		".B CKA_EXTRACTABLE\n"
		"cannot be waived."},
	CLI_END,
};

static const struct cli_spec generate_spec = {generate_usage, generate_opts};

static const char show_usage[] =
	"usage: ceremony key show --token T --label L [options]\n"
	"\nShows a key's attributes (its generation evidence), its recorded waivers and its\n"
	"SPKI SHA-256 fingerprint in groups for reading aloud, and the verdict. Exits 1\n"
	"when the evidence fails (the tool then refuses to sign with the key). Needs the\n"
	"user PIN.\n";

static const struct cli_opt show_opts[] = {
	{.name = "token", .arg = "T", .val = 't',
	 .help = "token label or PKCS#11 URI"},
	{.name = "label", .arg = "L", .val = 'l',
	 .help = "the key's label"},
	CLI_END,
};

static const struct cli_spec show_spec = {show_usage, show_opts};

static int key_opt(void *state, int c, const char *arg)
{
	struct key_opts *o = state;

	switch (c) {
	case 't': o->token = arg; return 0;
	case 'l': o->label = arg; return 0;
	case 'k': o->type = arg; return 0;
	case 'b': o->backup = arg; return 0;
	case 'w':
		if (o->nwaivers >= P11KEY_WAIVERS_MAX)
			return -1;
		o->waive[o->nwaivers++] = arg;
		return 0;
	default: return -1;
	}
}


static int key_parse(struct ceremony_ctx *ctx, int argc, char **argv, const struct cli_spec *spec,
		     struct key_opts *o)
{
	const char *usage = spec->usage;
	int first, r;

	if ((r = cli_parse(ctx, argc, argv, spec, key_opt, o, &first)) != 0)
		return r;
	if (first != argc)
		return cli_usage_error(usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = cli_require(o->token, "--token", usage)) != 0 ||
	    (r = cli_require(o->label, "--label", usage)) != 0)
		return r;
	return 0;
}

static int cmd_key_generate(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct key_opts o = {0};
	enum p11key_policy policy = P11KEY_ROOT_WRAP;
	unsigned waivers = 0;
	int r;

	if ((r = key_parse(ctx, argc, argv, &generate_spec, &o)) != 0)
		return r > 0 ? 0 : r;
	if ((r = cli_require(o.type, "--type", generate_usage)) != 0)
		return r;
	if (o.backup != NULL && (r = p11key_policy_parse(o.backup, &policy)) != 0)
		return r;
	for (int i = 0; i < o.nwaivers; i++)
		if ((r = p11key_waivers_parse_list(o.waive[i], &waivers)) != 0)
			return r;
	return rootkey_generate(ctx, o.token, o.label, o.type, policy, waivers, stdout);
}

static int cmd_key_show(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct key_opts o = {0};
	int r;

	if ((r = key_parse(ctx, argc, argv, &show_spec, &o)) != 0)
		return r > 0 ? 0 : r;
	return rootkey_show(ctx, o.token, o.label, stdout);
}

const struct cli_command cmd_key_verbs[] = {
	{"generate", cmd_key_generate, "generate a key pair in the HSM (root template)", &generate_spec, NULL},
	{"show", cmd_key_show, "show a key's attributes and SPKI fingerprint", &show_spec, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_key(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "key", "usage: ceremony key COMMAND [options]\n", cmd_key_verbs,
			    argc, argv);
}

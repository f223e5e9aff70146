/* ceremony cert root | signer | sign */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/issue.h"
#include "ceremony/rootops.h"

struct root_opts {
	const char *token, *key, *profile, *subject, *out;
};

static const char root_usage[] =
	"usage: ceremony cert root --token T --key L --profile FILE --subject DN --out FILE\n"
	"                          --transcript FILE [options]\n"
	"\nMakes the self-signed root certificate of HSM key L under a root profile:\n"
	"a serial of 126 random bits (HSM and host RNGs hashed together), the profile's\n"
	"validity and extensions, signed inside the HSM and verified with the token's public key\n"
	"before the PEM is written (atomically; an existing FILE is never overwritten).\n"
	"\n  --token T             token label or PKCS#11 URI\n"
	"  --key L               the key's label\n"
	"  --profile FILE        a root profile (ceremony-scripts/profiles/root.yaml)\n"
	"  --subject DN          e.g. \"/C=DE/O=ACME Devices/CN=ACME Devices Root CA 2026\"\n"
	"  --out FILE            where to write the PEM certificate\n\n" CLI_COMMON_HELP;

static int root_opt(void *state, int c, const char *arg)
{
	struct root_opts *o = state;

	switch (c) {
	case 't': o->token = arg; return 0;
	case 'k': o->key = arg; return 0;
	case 'p': o->profile = arg; return 0;
	case 's': o->subject = arg; return 0;
	case 'o': o->out = arg; return 0;
	default: return -1;
	}
}

static int cmd_cert_root(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"token", required_argument, NULL, 't'},   {"key", required_argument, NULL, 'k'},
		{"profile", required_argument, NULL, 'p'}, {"subject", required_argument, NULL, 's'},
		{"out", required_argument, NULL, 'o'},	   CLI_COMMON_OPTIONS,
		{NULL, 0, NULL, 0}};
	struct root_opts o = {NULL, NULL, NULL, NULL, NULL};
	int first, r;

	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, root_usage, root_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(root_usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = cli_require(o.token, "--token", root_usage)) != 0 ||
	    (r = cli_require(o.key, "--key", root_usage)) != 0 ||
	    (r = cli_require(o.profile, "--profile", root_usage)) != 0 ||
	    (r = cli_require(o.subject, "--subject", root_usage)) != 0 ||
	    (r = cli_require(o.out, "--out", root_usage)) != 0)
		return r;
	return rootops_cert_root(ctx, o.token, o.key, o.profile, o.subject, o.out, stdout);
}

static const char sign_usage[] =
	"usage: ceremony cert sign --token T --key L --issuer root.pem --profile FILE\n"
	"                          (--csr FILE --out FILE | --csr-dir DIR --out-dir DIR)\n"
	"                          [--policy OID]... [--expect-spki HEX --expect-subject DN]...\n"
	"                          [--expect-file FILE] --transcript FILE [options]\n"
	"\nSigns intermediate CA or end-entity certificates from CSRs (PKCS#10, PEM or DER)\n"
	"under a profile. Every request is checked first (see \"ceremony csr show\"); the\n"
	"subject is taken from the CSR only as the profile allows; serials and keys must be\n"
	"new to the CA's history (every *.jsonl beside the transcript, or --history DIR).\n"
	"Each certificate is first signed with a throwaway key and linted; then the HSM\n"
	"signs it and the signature is verified with the issuer's key. Writes X.pem and\n"
	"X-chain.pem (certificate + issuer), never overwriting. A batch (any size) is\n"
	"signed in one login, and only if every request passes; every refusal is recorded\n"
	"in the transcript. A pinned request must carry exactly the key and subject\n"
	"agreed beforehand, checked before the login; a profile with\n"
	"requests_pinned: true refuses any request that is not pinned. A batch that\n"
	"stopped can be run again: what was issued is skipped.\n"
	"\n  --token T             token label or PKCS#11 URI\n"
	"  --key L               the issuing key's label\n"
	"  --issuer FILE         the issuer's certificate (the root)\n"
	"  --profile FILE        ceremony-scripts/profiles/intermediate-ca.yaml, ...\n"
	"  --csr FILE            one request ...\n"
	"  --out FILE            ... and its certificate\n"
	"  --csr-dir DIR         every *.csr, *.der, *.pem in DIR ...\n"
	"  --out-dir DIR         ... signed into DIR/NAME.pem\n"
	"  --policy OID          a certificate policy besides the profile's (repeatable)\n"
	"  --history DIR         the folder of the CA's transcripts\n"
	"  --expect-spki [NAME:]HEX      the request's SPKI SHA-256 (NAME: its file name in\n"
	"                        a batch; repeatable, one per request)\n"
	"  --expect-subject [NAME:]DN    its subject, \"/C=DE/O=ACME/CN=Factory 1 CA\"\n"
	"  --expect-file FILE    lines of \"csr-name spki-sha256-hex /C=../CN=..\"\n" APPROVE_HELP
	"\n" CLI_COMMON_HELP;

static int sign_opt(void *state, int c, const char *arg)
{
	struct issue_opts *o = state;

	switch (c) {
	case 't': o->token = arg; return 0;
	case 'k': o->key = arg; return 0;
	case 'i': o->issuer = arg; return 0;
	case 'p': o->profile = arg; return 0;
	case 'c': o->csr = arg; return 0;
	case 'o': o->out = arg; return 0;
	case 'C': o->csr_dir = arg; return 0;
	case 'O': o->out_dir = arg; return 0;
	case 'H': o->history_dir = arg; return 0;
	case OPT_APPROVERS: o->approve.approvers = arg; return 0;
	case OPT_APPROVER_PINS: o->approve.pin_sources = arg; return 0;
	case 'E': o->expect_file = arg; return 0;
	case 'S': return issue_pin_add(o, arg, 0) == 0 ? 0 : -1;
	case 'D': return issue_pin_add(o, arg, 1) == 0 ? 0 : -1;
	case 'P':
		if (o->n_policies == PROFILE_MAX_OIDS || strlen(arg) >= PROFILE_OID_MAX)
			return -1;
		memcpy(o->policies[o->n_policies++], arg, strlen(arg) + 1);
		return 0;
	default: return -1;
	}
}

static int cmd_cert_sign_run(struct ceremony_ctx *ctx, struct issue_opts *o_, int argc,
			     char **argv, int first);

static int cmd_cert_sign(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"token", required_argument, NULL, 't'},   {"key", required_argument, NULL, 'k'},
		{"issuer", required_argument, NULL, 'i'},  {"profile", required_argument, NULL, 'p'},
		{"csr", required_argument, NULL, 'c'},	   {"out", required_argument, NULL, 'o'},
		{"csr-dir", required_argument, NULL, 'C'}, {"out-dir", required_argument, NULL, 'O'},
		{"policy", required_argument, NULL, 'P'},  {"history", required_argument, NULL, 'H'},
		{"expect-spki", required_argument, NULL, 'S'},
		{"expect-subject", required_argument, NULL, 'D'},
		{"expect-file", required_argument, NULL, 'E'},
		APPROVE_OPTIONS,			   CLI_COMMON_OPTIONS,			   {NULL, 0, NULL, 0}};
	struct issue_opts o;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, sign_usage, sign_opt, &o, &first)) != 0) {
		free(o.pins);
		return r > 0 ? 0 : r;
	}
	r = cmd_cert_sign_run(ctx, &o, argc, argv, first);
	free(o.pins);
	return r;
}

static int cmd_cert_sign_run(struct ceremony_ctx *ctx, struct issue_opts *o_, int argc,
			     char **argv, int first)
{
	struct issue_opts o = *o_;
	int r;

	if (first != argc)
		return cli_usage_error(sign_usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = cli_require(o.token, "--token", sign_usage)) != 0 ||
	    (r = cli_require(o.key, "--key", sign_usage)) != 0 ||
	    (r = cli_require(o.issuer, "--issuer", sign_usage)) != 0 ||
	    (r = cli_require(o.profile, "--profile", sign_usage)) != 0)
		return r;
	if ((o.csr != NULL) + (o.csr_dir != NULL) != 1 || (o.csr != NULL) != (o.out != NULL) ||
	    (o.csr_dir != NULL) != (o.out_dir != NULL))
		return cli_usage_error(sign_usage, "give --csr with --out, or --csr-dir with --out-dir");
	r = issue_sign(ctx, &o, stdout);
	o_->pins = o.pins; /* the pins file's lines were added */
	return r;
}

static const char signer_usage[] =
	"usage: ceremony cert signer --token T --key L --issuer root.pem --profile FILE\n"
	"                            --label S --out FILE [--subject DN] --transcript FILE\n"
	"\nMakes the ceremony-signing key S in the root's token (never extractable) and its\n"
	"certificate, issued by root key L under a ceremony-signing profile: CA:FALSE,\n"
	"keyUsage digitalSignature, extendedKeyUsage id-kp-documentSigning (RFC 9336). That\n"
	"key, not the root key, seals transcripts and media manifests, so every seal passes\n"
	"  openssl cms -verify -binary -inform DER -in T.sig -content T -CAfile root.pem\n"
	"with its default purpose checks. The certificate never outlives the root. Recorded\n"
	"as cert.signer; if anything fails after the key exists, the key is destroyed.\n"
	"\n  --token T             the root's token: label or PKCS#11 URI\n"
	"  --key L               the root key's label\n"
	"  --issuer FILE         the root certificate (root.pem)\n"
	"  --profile FILE        ceremony-scripts/profiles/ceremony-signer.yaml\n"
	"  --label S             the new signing key's label\n"
	"  --subject DN          its subject (default: the root's, CN + \" Ceremony Signing\")\n"
	"  --out FILE            where to write its PEM certificate\n"
	"  --waive CKA_X[,CKA_Y] what the module cannot honour, as for key generate (recorded)\n\n"
	CLI_COMMON_HELP;

static int signer_opt(void *state, int c, const char *arg)
{
	struct rootops_signer_opts *o = state;

	switch (c) {
	case 't': o->token = arg; return 0;
	case 'k': o->root_key = arg; return 0;
	case 'i': o->issuer = arg; return 0;
	case 'p': o->profile = arg; return 0;
	case 'l': o->label = arg; return 0;
	case 's': o->subject = arg; return 0;
	case 'o': o->out_path = arg; return 0;
	case 'w': o->waive = arg; return 0;
	default: return -1;
	}
}

static int cmd_cert_signer(struct ceremony_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"token", required_argument, NULL, 't'},   {"key", required_argument, NULL, 'k'},
		{"issuer", required_argument, NULL, 'i'},  {"profile", required_argument, NULL, 'p'},
		{"label", required_argument, NULL, 'l'},   {"subject", required_argument, NULL, 's'},
		{"out", required_argument, NULL, 'o'},	   {"waive", required_argument, NULL, 'w'},
		CLI_COMMON_OPTIONS,			   {NULL, 0, NULL, 0}};
	struct rootops_signer_opts o;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_getopt(ctx, argc, argv, "h", longopts, signer_usage, signer_opt, &o,
			    &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(signer_usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = cli_require(o.token, "--token", signer_usage)) != 0 ||
	    (r = cli_require(o.root_key, "--key", signer_usage)) != 0 ||
	    (r = cli_require(o.issuer, "--issuer", signer_usage)) != 0 ||
	    (r = cli_require(o.profile, "--profile", signer_usage)) != 0 ||
	    (r = cli_require(o.label, "--label", signer_usage)) != 0 ||
	    (r = cli_require(o.out_path, "--out", signer_usage)) != 0)
		return r;
	return rootops_signer_create(ctx, &o, stdout);
}

static const struct cli_command cert_commands[] = {
	{"root", cmd_cert_root, "make the self-signed root certificate", NULL, NULL},
	{"signer", cmd_cert_signer, "make the ceremony-signing key and its certificate", NULL, NULL},
	{"sign", cmd_cert_sign, "sign intermediate CA / end-entity certificates from CSRs", NULL, NULL},
	{"cross", cmd_cert_cross, "cross-certify another root (root rollover)", NULL, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_cert(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "cert", "usage: ceremony cert COMMAND [options]\n", cert_commands,
			    argc, argv);
}

/* ceremony cert root | signer | sign */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/commands.h"
#include "ceremony/err.h"
#include "ceremony/issue.h"
#include "ceremony/rootcert.h"
#include "ceremony/signer.h"

struct root_opts {
	const char *token, *key, *profile, *subject, *out;
};

static const char root_usage[] =
	"usage: ceremony cert root --token T --key L --profile FILE --subject DN --out FILE\n"
	"                          --transcript FILE [options]\n"
	"\nMakes the self-signed root certificate of HSM key L under a root profile:\n"
	"a serial of 126 random bits (HSM and host RNGs hashed together), the profile's\n"
	"validity and extensions, signed inside the HSM and verified with the token's public key\n"
	"before the PEM is written (atomically; an existing FILE is never overwritten).\n";

static const struct cli_opt root_opts[] = {
	{.name = "token", .arg = "T", .val = 't',
	 .help = "token label or PKCS#11 URI"},
	{.name = "key", .arg = "L", .val = 'k',
	 .help = "the key's label"},
	{.name = "profile", .arg = "FILE", .val = 'p',
	 .help = "a root profile (ceremony-scripts/profiles/root.yaml)",
	 .man = "A root profile\n"
		".RB ( ceremony-scripts/profiles/root.yaml )."},
	{.name = "subject", .arg = "DN", .val = 's',
	 .help = "e.g. \"/C=DE/O=ACME Devices/CN=ACME Devices Root CA 2026\"",
	 .man = "The subject, e.g.\n"
		".BR \"\\(dq/C=DE/O=ACME Devices/CN=ACME Devices Root CA 2026\\(dq\" ."},
	{.name = "out", .arg = "FILE", .val = 'o',
	 .help = "where to write the PEM certificate"},
	CLI_END,
};

static const struct cli_spec root_spec = {root_usage, root_opts};

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
	struct root_opts o = {NULL, NULL, NULL, NULL, NULL};
	int first, r;

	if ((r = cli_parse(ctx, argc, argv, &root_spec, root_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc)
		return cli_usage_error(root_usage, "unexpected argument \"%s\"", argv[first]);
	if ((r = cli_require(o.token, "--token", root_usage)) != 0 ||
	    (r = cli_require(o.key, "--key", root_usage)) != 0 ||
	    (r = cli_require(o.profile, "--profile", root_usage)) != 0 ||
	    (r = cli_require(o.subject, "--subject", root_usage)) != 0 ||
	    (r = cli_require(o.out, "--out", root_usage)) != 0)
		return r;
	return rootcert_create(ctx, o.token, o.key, o.profile, o.subject, o.out, stdout);
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
	"requests_pinned: true refuses any request that is not pinned (the shipped CA\n"
	"profiles do). A batch that stopped can be run again: what was issued is\n"
	"skipped.\n";

static const struct cli_opt sign_opts[] = {
	{.name = "token", .arg = "T", .val = 't',
	 .help = "token label or PKCS#11 URI"},
	{.name = "key", .arg = "L", .val = 'k',
	 .help = "the issuing key's label"},
	{.name = "issuer", .arg = "FILE", .val = 'i',
	 .help = "the issuer's certificate (the root)"},
	{.name = "profile", .arg = "FILE", .val = 'p',
	 .help = "ceremony-scripts/profiles/intermediate-ca.yaml, ...",
	 .man = "The profile, e.g.\n"
		".BR ceremony-scripts/profiles/intermediate-ca.yaml ."},
	{.name = "csr", .arg = "FILE", .val = 'c',
	 .help = "one request ..."},
	{.name = "out", .arg = "FILE", .val = 'o',
	 .help = "... and its certificate",
	 .man = "\\&... and its certificate."},
	{.name = "csr-dir", .arg = "DIR", .val = 'C',
	 .help = "every *.csr, *.der, *.pem in DIR ...",
	 .man = "Every\n"
		".BR *.csr ,\n"
		".BR *.der ,\n"
		".B *.pem\n"
		"in\n"
		".I DIR\n"
		"\\&..."},
	{.name = "out-dir", .arg = "DIR", .val = 'O',
	 .help = "... signed into DIR/NAME.pem",
	 .man = "\\&... signed into\n"
		".IB DIR / NAME .pem\\fR."},
	{.name = "policy", .arg = "OID", .val = 'P',
	 .help = "a certificate policy besides the profile's (repeatable)"},
	{.name = "history", .arg = "DIR", .val = 'H',
	 .help = "the folder of the CA's transcripts"},
	{.name = "expect-spki", .arg = "[NAME:]HEX", .val = 'S',
	 .help = "the request's SPKI SHA-256 (NAME: its file name in\n"
		 "a batch; repeatable, one per request)",
	 .man = "The SHA-256 of the request's SubjectPublicKeyInfo, 64 hex digits;\n"
		".I NAME\n"
		"is the request's file name in a batch (repeatable, one per request)."},
	{.name = "expect-subject", .arg = "[NAME:]DN", .val = 'D',
	 .help = "its subject, \"/C=DE/O=ACME/CN=Factory 1 CA\"",
	 .man = "The request's subject, e.g.\n"
		".BR \"\\(dq/C=DE/O=ACME Devices/CN=Factory 1 CA\\(dq\" ."},
	{.name = "expect-file", .arg = "FILE", .val = 'E',
	 .help = "lines of \"csr-name spki-sha256-hex /C=../CN=..\"",
	 .man = "Lines of\n"
		".I \"csr-name spki-sha256-hex /C=../CN=..\"\n"
		"(blank lines and\n"
		".B #\n"
		"comments allowed)."},
	{.include = cli_approve_opts},
	CLI_END,
};

static const struct cli_spec sign_spec = {sign_usage, sign_opts};

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
	struct issue_opts o;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_parse(ctx, argc, argv, &sign_spec, sign_opt, &o, &first)) != 0) {
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
	"as cert.signer; if anything fails after the key exists, the key is destroyed.\n";

static const struct cli_opt signer_opts[] = {
	{.name = "token", .arg = "T", .val = 't',
	 .help = "the root's token: label or PKCS#11 URI"},
	{.name = "key", .arg = "L", .val = 'k',
	 .help = "the root key's label"},
	{.name = "issuer", .arg = "FILE", .val = 'i',
	 .help = "the root certificate (root.pem)",
	 .man = "The root certificate."},
	{.name = "profile", .arg = "FILE", .val = 'p',
	 .help = "ceremony-scripts/profiles/ceremony-signer.yaml",
	 .man = "A ceremony-signing profile\n"
		".RB ( ceremony-scripts/profiles/ceremony-signer.yaml )."},
	{.name = "label", .arg = "S", .val = 'l',
	 .help = "the new signing key's label"},
	{.name = "subject", .arg = "DN", .val = 's',
	 .help = "its subject (default: the root's, CN + \" Ceremony Signing\")",
	 .man = "Its subject (default: the root's, with CN\n"
		".RI \\(dq \"root CN\" \" Ceremony Signing\\(dq).\""},
	{.name = "out", .arg = "FILE", .val = 'o',
	 .help = "where to write its PEM certificate"},
	{.name = "waive", .arg = "CKA_X[,CKA_Y]", .val = 'w',
	 .help = "what the module cannot honour, as for key generate (recorded)",
	 .man = "What the module cannot honour or does not report, as for\n"
		".BR \"key generate\" ;\n"
		"recorded."},
	CLI_END,
};

static const struct cli_spec signer_spec = {signer_usage, signer_opts};

static int signer_opt(void *state, int c, const char *arg)
{
	struct signer_opts *o = state;

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
	struct signer_opts o;
	int first, r;

	memset(&o, 0, sizeof(o));
	if ((r = cli_parse(ctx, argc, argv, &signer_spec, signer_opt, &o, &first)) != 0)
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
	return signer_create(ctx, &o, stdout);
}

const struct cli_command cmd_cert_verbs[] = {
	{"root", cmd_cert_root, "make the self-signed root certificate", &root_spec, NULL},
	{"signer", cmd_cert_signer, "make the ceremony-signing key and its certificate", &signer_spec, NULL},
	{"sign", cmd_cert_sign, "sign intermediate CA / end-entity certificates from CSRs", &sign_spec, NULL},
	{"cross", cmd_cert_cross, "cross-certify another root (root rollover)", &cmd_cert_cross_spec, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_cert(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "cert", "usage: ceremony cert COMMAND [options]\n", cmd_cert_verbs,
			    argc, argv);
}

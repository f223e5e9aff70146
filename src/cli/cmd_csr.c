/* ceremony csr show */
#include <stdio.h>
#include <stdlib.h>

#include "ceremony/commands.h"
#include "ceremony/csr.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/pem.h"
#include "ceremony/profile.h"

struct show_opts {
	const char *profile, *root;
};

static const char show_usage[] =
	"usage: ceremony csr show FILE [--profile FILE] [--root CERT]\n"
	"\nReads one certificate signing request (DER, or PEM with exactly one\n"
	"CERTIFICATE REQUEST block) and prints its subject, key, SPKI SHA-256\n"
	"fingerprint (to read aloud), requested extensions and every check's verdict\n"
	"(docs/csr.md). Exit status 0 when every check passes, 1 when any fails.\n";

static const struct cli_opt show_opts[] = {
	{.name = "profile", .arg = "FILE", .val = 'p',
	 .help = "also check the request against this profile"},
	{.name = "root", .arg = "CERT", .val = 'r',
	 .help = "the root certificate, whose key the request must not reuse"},
	CLI_END,
};

static const struct cli_spec show_spec = {show_usage, show_opts};

static int show_opt(void *state, int c, const char *arg)
{
	struct show_opts *o = state;

	switch (c) {
	case 'p': o->profile = arg; return 0;
	case 'r': o->root = arg; return 0;
	default: return -1;
	}
}

static int csr_show(const char *path, const char *profile_path, const char *root_path)
{
	struct profile *profile = NULL;
	struct csr_policy policy = {NULL, NULL, NULL, 0};
	struct csr_report *report = NULL;
	struct csr *c = NULL;
	X509 *root = NULL;
	uint8_t spki[SHA256_LEN];
	char text[2048], fp[SHA256_LEN * 5 / 2 + 1];
	int r;

	if ((profile_path != NULL && (profile = calloc(1, sizeof(*profile))) == NULL) ||
	    (report = calloc(1, sizeof(*report))) == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	if (profile != NULL && (r = profile_load(profile_path, profile)) != 0)
		goto out;
	if (root_path != NULL && (r = pem_load_cert(root_path, &root)) != 0)
		goto out;
	if ((r = csr_load(path, &c)) != 0)
		goto out;
	if ((r = csr_subject_text(c, text, sizeof(text))) != 0)
		goto out;
	printf("request: %s\nsubject: %s\n", path, text);
	csr_key_text(c, text, sizeof(text));
	printf("key: %s\n", text);
	if ((r = csr_spki_sha256(c, spki)) != 0)
		goto out;
	hex_encode_grouped(spki, sizeof(spki), fp);
	printf("SPKI SHA-256: %s\n", fp);
	printf("requested extensions:\n");
	csr_extensions_print(c, stdout);
	if (profile != NULL)
		printf("profile: %s (%s, %s)\n", profile->name, profile_kind_name(profile->kind),
		       profile_path);
	printf("checks:\n");
	policy.profile = profile;
	policy.root = root;
	r = csr_check(c, &policy, report);
	csr_report_print(report, stdout);
	printf("%s\n", r == 0 ? "verdict: accepted" : "verdict: refused");
out:
	csr_free(c);
	X509_free(root);
	free(report);
	free(profile);
	return r;
}

static int cmd_csr_show(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct show_opts o = {NULL, NULL};
	int first, r;

	if ((r = cli_parse(ctx, argc, argv, &show_spec, show_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (first >= argc)
		return cli_usage_error(show_usage, "which CSR file?");
	if (first + 1 != argc)
		return cli_usage_error(show_usage, "unexpected argument \"%s\"", argv[first + 1]);
	return csr_show(argv[first], o.profile, o.root);
}

const struct cli_command cmd_csr_verbs[] = {
	{"show", cmd_csr_show, "print a CSR and the verdict of every check", &show_spec, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_csr(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "csr", "usage: ceremony csr COMMAND [options]\n", cmd_csr_verbs,
			    argc, argv);
}

/* csr_show: what `ceremony csr show` prints about one request (see include/ceremony/csr.h). */
#include <stdio.h>
#include <stdlib.h>

#include "ceremony/csr.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/pem.h"
#include "ceremony/profile.h"
#include "ceremony/sizes.h"

int csr_show_report(const char *path, const char *profile_path, const char *root_path, FILE *f)
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
	fprintf(f, "request: %s\nsubject: %s\n", path, text);
	csr_key_text(c, text, sizeof(text));
	fprintf(f, "key: %s\n", text);
	if ((r = csr_spki_sha256(c, spki)) != 0)
		goto out;
	hex_encode_grouped(spki, sizeof(spki), fp);
	fprintf(f, "SPKI SHA-256: %s\n", fp);
	fprintf(f, "requested extensions:\n");
	csr_extensions_print(c, f);
	if (profile != NULL)
		fprintf(f, "profile: %s (%s, %s)\n", profile->name, profile_kind_name(profile->kind),
		       profile_path);
	fprintf(f, "checks:\n");
	policy.profile = profile;
	policy.root = root;
	r = csr_check(c, &policy, report);
	csr_report_print(report, f);
	fprintf(f, "%s\n", r == 0 ? "verdict: accepted" : "verdict: refused");
out:
	csr_free(c);
	X509_free(root);
	free(report);
	free(profile);
	return r;
}

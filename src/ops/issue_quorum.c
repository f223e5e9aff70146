/* issue: the quorum's approval of a batch's final TBS (see issue_int.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony/approve.h"
#include "ceremony/certinfo.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "issue_int.h"

static int item_describe(const struct issue_item *it, const struct profile *p,
			 struct approve_item *a)
{
	char subject[256] = "", serial[41];
	int r;

	if ((r = certinfo_serial_hex(it->linted, serial)) != 0)
		return r;
	(void)X509_NAME_oneline(X509_get_subject_name(it->linted), subject, sizeof(subject));
	if (snprintf(a->what, sizeof(a->what), "%s certificate for %s, serial %s, profile %s, from %s",
		     p->kind == PROFILE_END_ENTITY ? "end-entity" : "CA", subject, serial, p->name,
		     it->csr_path) >= (int)sizeof(a->what))
		a->what[sizeof(a->what) - 1] = '\0';
	return 0;
}

int issue_quorum(struct ceremony_ctx *ctx, struct transcript *tr, const struct issue_opts *o,
		 const struct profile *p, struct issue_item *items, size_t n, FILE *out)
{
	struct approve_item *ai = calloc(n, sizeof(*ai));
	struct approve_request rq;
	int r = 0, approved = 0;

	if (ai == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	memset(&rq, 0, sizeof(rq));
	rq.op = p->kind == PROFILE_END_ENTITY ? QOP_ISSUE_EE : QOP_ISSUE_CA;
	rq.n_items = n;
	rq.items = ai;
	rq.history_dir = o->history_dir;
	rq.has_profile = 1;
	if ((r = file_sha256(o->profile, rq.profile_sha256)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if ((r = certinfo_tbs_sha256(items[i].linted, ai[i].tbs_sha256)) != 0 ||
		    (r = file_sha256(items[i].csr_path, ai[i].csr_sha256)) != 0 ||
		    (r = item_describe(&items[i], p, &ai[i])) != 0)
			goto out;
		ai[i].has_csr = 1;
	}
	r = approve_collect(ctx, tr, &rq, &o->approve, out, &approved);
out:
	free(ai);
	return r;
}

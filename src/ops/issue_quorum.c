/* issue: the quorum's approval of a batch's final TBS (see issue_int.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony/approve.h"
#include "ceremony/quorum.h"
#include "ceremony/certinfo.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/sizes.h"
#include "issue_int.h"

static void item_describe(const struct issue_item *it, const struct profile *p,
			  struct approve_item *a)
{
	const char *slash = strrchr(it->csr_path, '/');

	/* The CSR by its name: the statement is public, the machine's folders are not (issue
	 * 10.7); the record's inputs hold its path in the archive and its SHA-256. */
	if (snprintf(a->what, sizeof(a->what), "%s certificate for %s, serial %s, profile %s, from %s",
		     p->kind == PROFILE_END_ENTITY ? "end-entity" : "CA", it->subject, it->serial_hex,
		     p->name, slash != NULL ? slash + 1 : it->csr_path) >= (int)sizeof(a->what))
		a->what[sizeof(a->what) - 1] = '\0';
}

int issue_quorum(struct ceremony_ctx *ctx, struct issue_run *run, FILE *out)
{
	const struct issue_opts *o = run->o;
	const struct profile *p = &run->profile;
	struct approve_item *ai = calloc(run->n_items + 1, sizeof(*ai));
	struct approve_request rq;
	size_t n = 0;
	int r = 0, approved = 0;

	if (ai == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	memset(&rq, 0, sizeof(rq));
	rq.op = p->kind == PROFILE_END_ENTITY ? QOP_ISSUE_EE : QOP_ISSUE_CA;
	rq.items = ai;
	rq.history_dir = o->history_dir;
	rq.history = run->history; /* read once: the quorum walk takes its facts */
	rq.has_profile = 1;
	if ((r = file_sha256(o->profile, rq.profile_sha256)) != 0)
		goto out;
	/* Only what this call signs: a rerun's already issued certificates were approved then. */
	for (size_t i = 0; i < run->n_items; i++) {
		const struct issue_item *it = &run->items[i];
		if (it->state != ITEM_NEW)
			continue;
		/* The SHA-256 of exactly the TBS bytes the HSM will sign. */
		if (EVP_Digest(it->tbs, it->tbs_len, ai[n].tbs_sha256, NULL, EVP_sha256(), NULL) != 1) {
			r = cer_err_ssl(CER_E_CRYPTO, "cannot hash the TBS certificate");
			goto out;
		}
		memcpy(ai[n].csr_sha256, it->csr_sha256, SHA256_LEN);
		ai[n].has_csr = 1;
		item_describe(it, p, &ai[n]);
		n++;
	}
	/* A statement holds at most QUORUM_MAX_ITEMS: a bigger batch is approved in parts,
	 * every part before the first signature. */
	for (size_t done = 0; done < n && r == 0; done += rq.n_items) {
		rq.items = ai + done;
		rq.n_items = n - done < QUORUM_MAX_ITEMS ? n - done : QUORUM_MAX_ITEMS;
		r = approve_collect(ctx, run->tr, &rq, &o->approve, out, &approved);
	}
out:
	free(ai);
	return r;
}

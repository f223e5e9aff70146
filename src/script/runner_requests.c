/*
 * runner: the requests a script pins (issue 16), checked against the files on
 * the medium at the start of the ceremony and again at each resume, before the
 * first step: a swapped CSR stops the ceremony at its first check, recorded,
 * with both keys read aloud in PGP words. "cert sign" checks the same pins again
 * before its login (the runner passes them), so nothing is signed either way.
 */
#include <stdlib.h>
#include <string.h>

#include "ceremony/err.h"
#include "ceremony/issue.h"
#include "ceremony/textbuf.h"
#include "runner_int.h"

static int request_check(struct runner *rn, const struct script_request *q)
{
	struct issue_opts o;
	char file[SCRIPT_ARG_MAX], v[SCRIPT_ARG_MAX], why[2048];
	int r;

	memset(&o, 0, sizeof(o));
	if ((r = script_expand(rn->script, rn->ctx->config, NULL, NULL, 0, q->file, file,
			       sizeof(file))) != 0 ||
	    (r = script_expand(rn->script, rn->ctx->config, NULL, NULL, 0, q->spki_sha256, v,
			       sizeof(v))) != 0 ||
	    (r = issue_pin_add(&o, v, 0)) != 0 ||
	    (r = script_expand(rn->script, rn->ctx->config, NULL, NULL, 0, q->subject, v,
			       sizeof(v))) != 0 ||
	    (r = issue_pin_add(&o, v, 1)) != 0) {
		cer_err_prefix("%s: the pin of %s: ", rn->script->path, q->file);
		goto out;
	}
	if ((r = issue_request_check(file, &o.pins[0])) == 0)
		goto out;
	/* The refusal's own detail: why is larger than CER_ERR_DETAIL_SIZE, it fits whole. */
	text_format_cut(why, sizeof(why), "%s", cer_err_msg(r));
	r = runner_record(rn, "ceremony.request_refused",
			  json_pack("{s:s, s:s}", "request", file, "reason", why));
	if (r == 0)
		r = cer_err(CER_E_REFUSED,
			    "%s; the ceremony stopped before its first step: nothing was signed", why);
out:
	free(o.pins);
	return r;
}

int runner_check_requests(struct runner *rn)
{
	int r;

	for (int i = 0; i < rn->script->n_requests; i++)
		if ((r = request_check(rn, &rn->script->requests[i])) != 0)
			return r;
	if (rn->script->n_requests > 0)
		fprintf(rn->out, "%d pinned request%s on the medium: key and subject as agreed.\n",
			rn->script->n_requests, rn->script->n_requests == 1 ? "" : "s");
	return 0;
}

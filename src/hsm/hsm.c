#include <stdio.h>
#include <string.h>

#include "ceremony/airgap.h"
#include "ceremony/err.h"
#include "ceremony/hsm.h"
#include "ceremony/p11probe.h"
#include "ceremony/secret.h"

int hsm_open(struct ceremony_ctx *ctx, const char *token_name, struct hsm *out)
{
	const char *path;
	int r;

	json_t *override = NULL;

	memset(out, 0, sizeof(*out));
	/* DESIGN.md "Air gap"; a transcript's ceremony.begin records an override. */
	if ((r = airgap_enforce(ctx, &override)) != 0)
		return r;
	json_decref(override);
	if ((r = ctx_module_path(ctx, &path)) != 0)
		return r;
	if ((r = p11_module_load(path, &out->module)) != 0)
		return r;
	if ((r = p11_token_find(out->module, token_name, &out->token)) != 0)
		goto fail;
	/*
	 * Before any prompt: a token without a user PIN (initialised, not finished) or
	 * whose PIN is still a default or expired is not used (issue 12 item 4).
	 */
	if ((r = p11probe_check(out->module, &out->token, P11PROBE_PINS_USABLE)) != 0)
		goto fail;
	if ((r = p11_session_open(out->module, &out->token, &out->session)) != 0)
		goto fail;
	return 0;
fail:
	hsm_close(out);
	return r;
}

int hsm_login_user(struct ceremony_ctx *ctx, struct hsm *h)
{
	char what[96], prompt[CTX_PROMPT_MAX];

	if (snprintf(what, sizeof(what), "user PIN for token \"%s\"", h->token.label) >=
	    (int)sizeof(what))
		what[sizeof(what) - 1] = '\0';
	ctx_prompt(ctx, 0, what, prompt, sizeof(prompt));
	return p11_login_asking(h->session, CKU_USER, ctx->pin_source, prompt);
}

void hsm_session_end(struct hsm *h)
{
	p11_session_close(h->session);
	h->session = NULL;
}

void hsm_close(struct hsm *h)
{
	hsm_session_end(h);
	p11_module_free(h->module);
	h->module = NULL;
}

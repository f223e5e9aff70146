/* context: options and environment of one run (see include/ceremony/context.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ceremony/config.h"
#include "ceremony/context.h"
#include "ceremony/err.h"

void ctx_read_env(struct ceremony_ctx *ctx)
{
	const char *v = getenv("CEREMONY_ALLOW_NETWORK");

	ctx->env_module = getenv("CEREMONY_MODULE");
	ctx->env_allow_network = v != NULL && strcmp(v, "1") == 0;
	ctx->env_prompt_user = getenv("CEREMONY_PROMPT_USER");
	ctx->env_prompt_so = getenv("CEREMONY_PROMPT_SO");
	ctx->env_prompt_purpose = getenv("CEREMONY_PROMPT_PURPOSE");
	/* No longer read as a cost: main refuses to run while it is set (issue 9 item 14). */
	ctx->env_test_argon2_set = getenv("CEREMONY_TEST_ARGON2") != NULL;
	v = getenv("CEREMONY_NOTES_FD");
	ctx->env_notes_fd = -1;
	if (v != NULL && strlen(v) > 0 && strlen(v) < 6 && strspn(v, "0123456789") == strlen(v) &&
	    atoi(v) > 2) {
		struct stat st;
		/* Only the pipe the runner handed down: never a number some later file reuses. */
		if (fstat(atoi(v), &st) == 0 && S_ISFIFO(st.st_mode))
			ctx->env_notes_fd = atoi(v);
	}
}

void ctx_prompt(const struct ceremony_ctx *ctx, int so, const char *what, char *out,
		size_t size)
{
	const char *who = so ? ctx->env_prompt_so : ctx->env_prompt_user;
	const char *why = ctx->env_prompt_purpose;
	int n;

	if (who != NULL && who[0] != '\0')
		n = snprintf(out, size, "%s%s%s: %s", who, why != NULL && why[0] ? ", " : "",
			     why != NULL ? why : "", what);
	else
		n = snprintf(out, size, "%s", what);
	if (n < 0 && size > 0)
		out[0] = '\0';
}

int ctx_config(struct ceremony_ctx *ctx, const struct config **out)
{
	const char *path = ctx->config_path;
	int r;

	*out = NULL;
	if (ctx->config == NULL) {
		if (path == NULL) {
			FILE *f = fopen("ceremony.yaml", "r");
			if (f == NULL)
				return 0;
			fclose(f);
			path = "ceremony.yaml";
		}
		if ((r = config_load(path, &ctx->config)) != 0)
			return r;
	}
	*out = ctx->config;
	return 0;
}

int ctx_argon2_test(struct ceremony_ctx *ctx, int *test)
{
	const struct config *cfg = NULL;
	const char *v;
	int r;

	*test = 0;
	if ((r = ctx_config(ctx, &cfg)) != 0)
		return r;
	v = cfg != NULL ? config_get(cfg, CTX_ARGON2_COST_KEY) : NULL;
	if (v == NULL || strcmp(v, "production") == 0)
		return 0;
	if (strcmp(v, "test") == 0) {
		*test = 1;
		return 0;
	}
	return cer_err(CER_E_INPUT, "%s: \"" CTX_ARGON2_COST_KEY ": %s\": give production or test",
		       cfg->path, v);
}

int ctx_module_path(struct ceremony_ctx *ctx, const char **out)
{
	const struct config *cfg = NULL;
	int r;

	*out = NULL;
	if (ctx->module_path != NULL) {
		*out = ctx->module_path;
		return 0;
	}
	if (ctx->env_module != NULL && ctx->env_module[0] != '\0') {
		*out = ctx->env_module;
		return 0;
	}
	if ((r = ctx_config(ctx, &cfg)) != 0)
		return r;
	if (cfg != NULL && config_get(cfg, "module") != NULL) {
		*out = config_get(cfg, "module");
		return 0;
	}
	return cer_err(CER_E_USAGE, "no PKCS#11 module: give --module PATH, set CEREMONY_MODULE, "
				    "or put \"module:\" in ceremony.yaml");
}

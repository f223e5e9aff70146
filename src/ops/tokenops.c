#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ceremony/airgap.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/err.h"
#include "ceremony/keyrecord.h"
#include "ceremony/keytype.h"
#include "ceremony/p11.h"
#include "ceremony/p11probe.h"
#include "ceremony/secret.h"
#include "ceremony/textbuf.h"
#include "ceremony/tokenops.h"
#include "ceremony/transcript.h"

static int module_load(struct ceremony_ctx *ctx, struct p11_module **m)
{
	const char *path;
	int r;

	if ((r = ctx_module_path(ctx, &path)) != 0)
		return r;
	return p11_module_load(path, m);
}

static const char *flag_words(CK_FLAGS f, char *buf, size_t size)
{
	static const struct {
		CK_FLAGS flag;
		const char *name;
	} names[] = {
		{CKF_RNG, "CKF_RNG"},
		{CKF_WRITE_PROTECTED, "CKF_WRITE_PROTECTED"},
		{CKF_LOGIN_REQUIRED, "CKF_LOGIN_REQUIRED"},
		{CKF_USER_PIN_INITIALIZED, "CKF_USER_PIN_INITIALIZED"},
		{CKF_PROTECTED_AUTHENTICATION_PATH, "CKF_PROTECTED_AUTHENTICATION_PATH"},
		{CKF_TOKEN_INITIALIZED, "CKF_TOKEN_INITIALIZED"},
		{CKF_USER_PIN_COUNT_LOW, "CKF_USER_PIN_COUNT_LOW"},
		{CKF_USER_PIN_LOCKED, "CKF_USER_PIN_LOCKED"},
		{CKF_USER_PIN_TO_BE_CHANGED, "CKF_USER_PIN_TO_BE_CHANGED"},
		{CKF_SO_PIN_COUNT_LOW, "CKF_SO_PIN_COUNT_LOW"},
		{CKF_SO_PIN_LOCKED, "CKF_SO_PIN_LOCKED"},
		{CKF_SO_PIN_TO_BE_CHANGED, "CKF_SO_PIN_TO_BE_CHANGED"},
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(f & names[i].flag))
			continue;
		int n = snprintf(buf + used, size - used, "%s%s", used ? " " : "", names[i].name);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

int tokenops_list(struct ceremony_ctx *ctx, FILE *out)
{
	struct p11_module *m = NULL;
	struct p11_token *tokens = NULL;
	size_t n = 0;
	int r;

	if ((r = module_load(ctx, &m)) != 0)
		return r;
	if ((r = p11_tokens_list(m, &tokens, &n)) != 0)
		goto out;
	fprintf(out, "Module %s: %zu slot%s\n", p11_module_path(m), n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		const struct p11_token *t = &tokens[i];
		fprintf(out, "Slot 0x%lx: %s\n", (unsigned long)t->slot, t->slot_description);
		if (!t->present)
			fprintf(out, "  (no token)\n");
		else if (!t->initialized)
			fprintf(out, "  token: uninitialised\n");
		else
			fprintf(out,
				"  token label:  %s\n  manufacturer: %s\n  model:        %s\n"
				"  serial:       %s%s\n  login:        %s\n",
				t->label, t->manufacturer, t->model, t->serial,
				p11_token_serial_is_unique(t) ? ""
							      : " (shared by every such token: named "
								"by slot, model and manufacturer)",
				(t->flags & CKF_USER_PIN_INITIALIZED) ? "user PIN set"
								      : "user PIN not set");
	}
	r = 0;
out:
	free(tokens);
	p11_module_free(m);
	return r;
}

static void probe_mechanisms(struct p11_module *m, const struct p11_token *t, FILE *out)
{
	CK_MECHANISM_TYPE *mechs = NULL;
	CK_MECHANISM_INFO info;
	size_t n = 0;

	if (p11_mech_list(m, t, &mechs, &n) != 0) {
		fprintf(out, "  mechanisms:   cannot list: %s\n", cer_err_msg(CER_E_P11));
		cer_err_clear();
		return;
	}
	fprintf(out, "  mechanisms:   %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		if (p11_mech_info(m, t, mechs[i], &info) != 0) {
			fprintf(out, "    0x%08lx %-28s (no info: %s)\n", (unsigned long)mechs[i],
				p11_mech_name(mechs[i]), cer_err_msg(CER_E_P11));
			cer_err_clear();
			continue;
		}
		const char *name = p11_mech_name(mechs[i]);
		fprintf(out, "    0x%08lx %-28s sizes %lu-%lu%s%s%s%s%s%s\n", (unsigned long)mechs[i],
			strncmp(name, "CKM_", 4) == 0 ? name : "", (unsigned long)info.ulMinKeySize,
			(unsigned long)info.ulMaxKeySize,
			info.flags & CKF_GENERATE_KEY_PAIR ? " keypair-gen" : "",
			info.flags & CKF_GENERATE ? " gen" : "", info.flags & CKF_SIGN ? " sign" : "",
			info.flags & CKF_WRAP ? " wrap" : "", info.flags & CKF_UNWRAP ? " unwrap" : "",
			info.flags & CKF_DECRYPT ? " decrypt" : "");
	}
	free(mechs);
}

static void probe_token(struct p11_module *m, const struct p11_token *t, FILE *out)
{
	char flags[512], rule[64];

	fprintf(out, "Slot 0x%lx: %s\n", (unsigned long)t->slot, t->slot_description);
	if (!t->present) {
		fprintf(out, "  (no token)\n");
		return;
	}
	p11_pin_rule(t, rule, sizeof(rule));
	fprintf(out, "  token:        %s\n  manufacturer: %s\n  model:        %s\n  serial:       %s\n"
		     "  PIN length:   %s (ulMinPinLen %lu, ulMaxPinLen %lu)\n  flags:        %s\n",
		t->initialized ? t->label : "(uninitialised)", t->manufacturer, t->model, t->serial,
		rule, (unsigned long)t->min_pin_len, (unsigned long)t->max_pin_len,
		flag_words(t->flags, flags, sizeof(flags)));
	fprintf(out, "  what the tool can do here:\n");
	for (int need = 0; need < P11PROBE_NEED_COUNT; need++) {
		/* An uninitialised token's label, serial and PIN flags mean nothing yet. */
		if (!t->initialized &&
		    (need == P11PROBE_PINS_USABLE || need == P11PROBE_SERIAL_UNIQUE))
			continue;
		if (p11probe_check(m, t, (enum p11probe_need)need) == 0) {
			fprintf(out, "    yes  %s\n", p11probe_need_name((enum p11probe_need)need));
		} else {
			fprintf(out, "    no   %s: %s\n", p11probe_need_name((enum p11probe_need)need),
				cer_err_msg(CER_E_REFUSED));
			cer_err_clear();
		}
	}
	fprintf(out, "    ?    key-executive card shares (CKO_DATA): needs a login; not probed\n");
	probe_mechanisms(m, t, out);
}

int tokenops_probe(struct ceremony_ctx *ctx, const char *token, FILE *out)
{
	struct p11_module *m = NULL;
	struct p11_token *tokens = NULL, one;
	size_t n = 0;
	int r;

	if ((r = module_load(ctx, &m)) != 0)
		return r;
	fprintf(out, "Module %s\n", p11_module_path(m));
	if (token != NULL) {
		if ((r = p11_token_find(m, token, &one)) != 0)
			goto out;
		probe_token(m, &one, out);
	} else {
		if ((r = p11_tokens_list(m, &tokens, &n)) != 0)
			goto out;
		for (size_t i = 0; i < n; i++)
			probe_token(m, &tokens[i], out);
	}
	r = 0;
out:
	free(tokens);
	p11_module_free(m);
	return r;
}

/* Read a new PIN, stating the token's rule, and check it before anything changes. */
static int pin_read_new(struct ceremony_ctx *ctx, const char *source, const struct p11_token *t,
			const char *role, const char *label, struct secret **pin)
{
	char what[160], rule[64], prompt[CTX_PROMPT_MAX];
	int r;

	p11_pin_rule(t, rule, sizeof(rule));
	if (snprintf(what, sizeof(what), "new %s PIN for token \"%.32s\" (%s)", role, label, rule) >=
	    (int)sizeof(what))
		return cer_err(CER_E_INTERNAL, "prompt too long");
	/* Whose PIN it is and what for, when ceremony run said so. */
	ctx_prompt(ctx, strstr(role, "SO") != NULL, what, prompt, sizeof(prompt));
	if ((r = secret_read_new(source, prompt, SECRET_PIN_MAX, pin)) != 0)
		return r;
	if (snprintf(what, sizeof(what), "the new %s PIN", role) >= (int)sizeof(what))
		return cer_err(CER_E_INTERNAL, "prompt too long");
	if ((r = p11_pin_len_check(t, what, (*pin)->len)) != 0)
		cer_err_prefix("token \"%s\": nothing was changed: ", label);
	return r;
}

static int pin_read_current(struct ceremony_ctx *ctx, const char *source,
			    const struct p11_token *t, const char *role, struct secret **pin)
{
	char what[128], prompt[CTX_PROMPT_MAX];

	if (snprintf(what, sizeof(what), "%s PIN of token \"%.32s\"", role, t->label) >=
	    (int)sizeof(what))
		return cer_err(CER_E_INTERNAL, "prompt too long");
	ctx_prompt(ctx, strstr(role, "SO") != NULL, what, prompt, sizeof(prompt));
	return secret_read(source, prompt, SECRET_PIN_MAX, pin);
}

struct created_by_us {
	const struct p11_token *t;
	int found;
};

/* A token.init record of this transcript that names this very token. */
static int created_match(void *arg, long line, json_t *rec)
{
	struct created_by_us *c = arg;
	const char *action = json_string_value(json_object_get(rec, "action"));
	json_t *tok = json_object_get(json_object_get(rec, "details"), "token");

	(void)line;
	if (action == NULL || tok == NULL ||
	    (strcmp(action, "token.init") != 0 && strcmp(action, "token.init_unfinished") != 0 &&
	     strcmp(action, "token.reinit") != 0))
		return 0;
	if (json_is_string(json_object_get(tok, "label")) &&
	    strcmp(json_string_value(json_object_get(tok, "label")), c->t->label) == 0 &&
	    json_is_string(json_object_get(tok, "serial")) &&
	    strcmp(json_string_value(json_object_get(tok, "serial")), c->t->serial) == 0 &&
	    json_is_string(json_object_get(tok, "model")) &&
	    strcmp(json_string_value(json_object_get(tok, "model")), c->t->model) == 0)
		c->found = 1;
	return 0;
}

static int tokenops_reinit(struct ceremony_ctx *ctx, struct p11_module *m,
			   struct transcript *tr, const char *tpath, const char *label, FILE *out)
{
	struct secret *so = NULL, *user = NULL;
	struct created_by_us c = {NULL, 0};
	struct p11_token old, tok;
	int r;

	if ((r = p11_token_find(m, label, &old)) != 0)
		return r;
	c.t = &old;
	if ((r = transcript_each(tpath, created_match, &c)) != 0)
		return r;
	if (!c.found)
		return cer_err(CER_E_REFUSED,
			       "%s does not record that this ceremony created token \"%s\" (serial "
			       "%s, model %s); re-initialising would erase a token it did not make; "
			       "nothing was changed",
			       tpath, label, old.serial, old.model);
	if ((r = pin_read_current(ctx, ctx->so_pin_source, &old, "SO", &so)) != 0 ||
	    (r = p11_pin_len_check(&old, "the SO PIN", so->len)) != 0 ||
	    (r = pin_read_new(ctx, ctx->pin_source, &old, "user", label, &user)) != 0)
		goto out;
	r = p11_token_reinit(m, &old, so, user, &tok);
	if (r != 0)
		goto out;
	if ((r = transcript_append(tr, "token.reinit", NULL, NULL,
				   json_pack("{s:o, s:s}", "token", keyrecord_token(&tok), "reason",
					     "re-initialised a token this ceremony created"),
				   NULL)) != 0)
		goto out;
	fprintf(out, "Token \"%s\" re-initialised: every object on it erased; SO PIN kept, user "
		     "PIN set.\n",
		tok.label);
out:
	secret_free(so);
	secret_free(user);
	return r;
}

int tokenops_init(struct ceremony_ctx *ctx, const char *label, int reinit, FILE *out)
{
	struct p11_module *m = NULL;
	struct transcript *tr = NULL;
	struct secret *so = NULL, *user = NULL;
	struct p11_token slot, tok;
	const char *tpath;
	char who[192];
	int r, created = 0;

	if ((r = ctx_transcript_path(ctx, "token init", &tpath)) != 0)
		return r;
	if ((r = ctx_transcript_open(ctx, "token init", &tr)) != 0)
		return r;
	if ((r = module_load(ctx, &m)) != 0)
		goto out;
	if (reinit) {
		r = tokenops_reinit(ctx, m, tr, tpath, label, out);
		goto out;
	}
	/* The slot and its PIN rule are known before the first prompt. */
	if ((r = p11_token_find_free(m, label, &slot)) != 0)
		goto out;
	if ((r = pin_read_new(ctx, ctx->so_pin_source, &slot, "SO", label, &so)) != 0 ||
	    (r = pin_read_new(ctx, ctx->pin_source, &slot, "user", label, &user)) != 0)
		goto out;
	r = p11_token_init(m, label, so, user, &tok, &created);
	if (r != 0 && created) {
		/* Recorded, so that set-user-pin or init --reinit can finish it. */
		char msg[1024];
		int n = snprintf(msg, sizeof(msg), "%s", cer_err_msg(r));
		if (n < 0 || n >= (int)sizeof(msg))
			msg[sizeof(msg) - 1] = '\0';
		if (p11_token_find(m, label, &tok) == 0 &&
		    transcript_append(tr, "token.init_unfinished", NULL, NULL,
				      json_pack("{s:o, s:s}", "token", keyrecord_token(&tok), "error",
						msg),
				      NULL) == 0) {
			if (tok.flags & CKF_USER_PIN_INITIALIZED)
				(void)cer_err(r, "%s (recorded; finish it with \"ceremony token "
						 "change-pin --token %s%s\")",
					      msg, label,
					      (tok.flags & CKF_SO_PIN_TO_BE_CHANGED) ? " --so" : "");
			else
				(void)cer_err(r, "%s (recorded; finish it with \"ceremony token "
						 "set-user-pin --token %s\" or redo it with \"ceremony "
						 "token init --reinit --label %s\")",
					      msg, label, label);
		}
		else
			(void)cer_err(r, "%s (and recording it in %s failed)", msg, tpath);
		goto out;
	}
	if (r != 0)
		goto out;
	if ((r = transcript_append(tr, "token.init", NULL, NULL,
				   json_pack("{s:o}", "token", keyrecord_token(&tok)), NULL)) != 0)
		goto out;
	p11_token_describe(&tok, who, sizeof(who));
	fprintf(out, "Token %s initialised (model %s); SO and user PINs set.\n", who, tok.model);
out:
	secret_free(so);
	secret_free(user);
	p11_module_free(m);
	transcript_close(tr);
	return r;
}

/* What a PIN command needs first: its transcript (required), the module, the token. */
static int pin_step_open(struct ceremony_ctx *ctx, const char *command, const char *token,
			 struct transcript **tr, struct p11_module **m, struct p11_token *t)
{
	int r;

	if ((r = ctx_transcript_open(ctx, command, tr)) != 0 || (r = module_load(ctx, m)) != 0)
		return r;
	return p11_token_find(*m, token, t);
}

/* Wipe the two PINs and close what pin_step_open opened. */
static void pin_step_close(struct secret *a, struct secret *b, struct p11_module *m,
			   struct transcript *tr)
{
	secret_free(a);
	secret_free(b);
	p11_module_free(m);
	transcript_close(tr);
}

int tokenops_set_user_pin(struct ceremony_ctx *ctx, const char *token, FILE *out)
{
	struct p11_module *m = NULL;
	struct transcript *tr = NULL;
	struct secret *so = NULL, *user = NULL;
	struct p11_token t;
	int r;

	if ((r = pin_step_open(ctx, "token set-user-pin", token, &tr, &m, &t)) != 0)
		goto out;
	if (t.flags & CKF_USER_PIN_INITIALIZED) {
		r = cer_err(CER_E_EXISTS,
			    "token \"%s\" already has a user PIN; nothing was changed (change it "
			    "with \"ceremony token change-pin\")",
			    t.label);
		goto out;
	}
	if ((r = pin_read_current(ctx, ctx->so_pin_source, &t, "SO", &so)) != 0 ||
	    (r = pin_read_new(ctx, ctx->pin_source, &t, "user", t.label, &user)) != 0)
		goto out;
	if ((r = p11_token_set_user_pin(m, &t, so, user)) != 0 ||
	    (r = p11_token_find(m, token, &t)) != 0)
		goto out;
	if ((r = transcript_append(tr, "token.set_user_pin", NULL, NULL,
				   json_pack("{s:o}", "token", keyrecord_token(&t)), NULL)) != 0)
		goto out;
	fprintf(out, "Token \"%s\": user PIN set by the security officer; the token is ready.\n",
		t.label);
out:
	pin_step_close(so, user, m, tr);
	return r;
}

int tokenops_change_pin(struct ceremony_ctx *ctx, const char *token, int so,
			const char *new_pin_source, FILE *out)
{
	struct p11_module *m = NULL;
	struct transcript *tr = NULL;
	struct secret *old = NULL, *new_pin = NULL;
	struct p11_token t;
	const char *role = so ? "SO" : "user";
	int r;

	if ((r = pin_step_open(ctx, "token change-pin", token, &tr, &m, &t)) != 0)
		goto out;
	if ((r = pin_read_current(ctx, so ? ctx->so_pin_source : ctx->pin_source, &t,
				  so ? "current SO" : "current user", &old)) != 0 ||
	    (r = pin_read_new(ctx, new_pin_source, &t, role, t.label, &new_pin)) != 0)
		goto out;
	if ((r = p11_token_change_pin(m, &t, so ? CKU_SO : CKU_USER, old, new_pin)) != 0 ||
	    (r = p11_token_find(m, token, &t)) != 0)
		goto out;
	if ((r = transcript_append(tr, "token.change_pin", NULL, NULL,
				   json_pack("{s:o, s:s}", "token", keyrecord_token(&t), "pin", role),
				   NULL)) != 0)
		goto out;
	fprintf(out, "Token \"%s\": %s PIN changed.\n", t.label, role);
	if ((r = p11_token_pins_usable(&t)) != 0)
		cer_err_prefix("the PIN was changed, but: ");
out:
	pin_step_close(old, new_pin, m, tr);
	return r;
}

/* The value of --name in args, or NULL. */
static const char *arg_value(const char *const *args, int n, const char *name)
{
	size_t len = strlen(name);

	for (int i = 0; i < n; i++) {
		if (strcmp(args[i], name) == 0 && i + 1 < n)
			return args[i + 1];
		if (strncmp(args[i], name, len) == 0 && args[i][len] == '=')
			return args[i] + len + 1;
	}
	return NULL;
}

/* The token named, or (not made yet) the module's first empty slot. */
static int needs_token(struct p11_module *m, const char *name, struct p11_token *t)
{
	struct p11_token *tokens = NULL;
	size_t n = 0;
	int r = p11_token_find(m, name, t);

	if (r != CER_E_NOTFOUND)
		return r;
	cer_err_clear();
	if ((r = p11_tokens_list(m, &tokens, &n)) != 0)
		return r;
	r = cer_err(CER_E_NOTFOUND, "token \"%s\" is not there and the module has no empty slot",
		    name);
	for (size_t i = 0; i < n; i++) {
		if (tokens[i].present && !tokens[i].initialized) {
			*t = tokens[i];
			if ((r = text_copy(t->label, sizeof(t->label), "token label", name)) == 0)
				cer_err_clear();
			break;
		}
	}
	free(tokens);
	return r;
}

int tokenops_step_needs(struct ceremony_ctx *ctx, struct p11_module **m, const char *const *args,
			int n)
{
	enum p11probe_need needs[2];
	const char *token, *backup;
	struct p11_token t;
	enum key_type type;
	json_t *override = NULL;
	int nneeds = 0, r;

	if (n < 2 || (token = arg_value(args, n, "--token")) == NULL)
		return 0;
	if (strcmp(args[0], "key") == 0 && strcmp(args[1], "generate") == 0) {
		const char *ts = arg_value(args, n, "--type");
		if (ts == NULL || key_type_parse(ts, &type) != 0) {
			cer_err_clear();
			return 0; /* the command itself says what is wrong with its options */
		}
		needs[nneeds++] = p11probe_root_need(type);
		backup = arg_value(args, n, "--backup");
		if (backup == NULL || strcmp(backup, "none") != 0)
			needs[nneeds++] = P11PROBE_WRAP;
	} else if (strcmp(args[0], "backup") == 0 && strcmp(args[1], "create") == 0) {
		needs[nneeds++] = P11PROBE_WRAP;
	} else if (strcmp(args[0], "backup") == 0 && strcmp(args[1], "recover") == 0) {
		needs[nneeds++] = P11PROBE_UNWRAP;
	} else if (strcmp(args[0], "witness") == 0 && strcmp(args[1], "register") == 0) {
		needs[nneeds++] = P11PROBE_WITNESS;
	} else {
		return 0;
	}
	if (*m == NULL) {
		const char *path;
		/* Read-only, but still the HSM: the air gap holds here too. */
		if ((r = airgap_check(ctx->allow_network, ctx->env_allow_network, &override)) != 0)
			return r;
		json_decref(override);
		if ((r = ctx_module_path(ctx, &path)) != 0 || (r = p11_module_load(path, m)) != 0)
			return r;
	}
	if ((r = needs_token(*m, token, &t)) != 0)
		return r;
	for (int i = 0; i < nneeds; i++) {
		if ((r = p11probe_check(*m, &t, needs[i])) != 0) {
			cer_err_prefix("\"%s %s\" needs %s: ", args[0], args[1],
				       p11probe_need_name(needs[i]));
			return r;
		}
	}
	return 0;
}

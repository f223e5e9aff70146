#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ceremony/config.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/script.h"
#include "ceremony/termsafe.h"
#include "ceremony/textbuf.h"
#include "ceremony/yamljson.h"

/* Options that carry secrets' sources: only the runner adds them, from the answers. */
static const char *const secret_options[] = {
	"--pin-source",		  "--so-pin-source",	  "--new-pin-source",
	"--passphrase-source",	  "--card-pin-sources",	  "--passphrase-sources",
	"--approver-pin-sources", "--secret-source"};

const char *const script_confidential_options[] = {
	"--threshold", "--shares", "--group", "--group-threshold", "--cards", "--holders"};

int script_option_confidential(const char *opt)
{
	for (size_t i = 0; i < SCRIPT_N_CONFIDENTIAL; i++)
		if (strcmp(opt, script_confidential_options[i]) == 0)
			return 1;
	return 0;
}

static int is_secret_option(const char *arg)
{
	for (size_t i = 0; i < sizeof(secret_options) / sizeof(secret_options[0]); i++)
		if (strncmp(arg, secret_options[i], strlen(secret_options[i])) == 0)
			return 1;
	return 0;
}

const char *script_option_abbreviated(const char *arg, const char *const *opts, size_t n)
{
	size_t len = strcspn(arg, "=");

	if (strncmp(arg, "--", 2) != 0 || len <= 2)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strlen(opts[i]) == len && strncmp(opts[i], arg, len) == 0)
			return NULL; /* exactly an option */
	for (size_t i = 0; i < n; i++)
		if (strlen(opts[i]) > len && strncmp(opts[i], arg, len) == 0)
			return opts[i];
	return NULL;
}

const char *script_role_title(const struct script *s, const char *role)
{
	for (int i = 0; i < s->n_roles; i++)
		if (strcmp(s->roles[i], role) == 0)
			return s->role_titles[i];
	return NULL;
}

int script_list(const struct script *s, const struct config *cfg, const char *name,
		struct script_entry *out, int max, int *n)
{
	const char *v = cfg != NULL ? config_get(cfg, name) : NULL, *p;

	*n = 0;
	if (v == NULL)
		return cer_err(CER_E_INPUT, "%s: the list %s is not set in ceremony.yaml (ROLE=card, "
					    "ROLE=card, ...; confidential)",
			       s->path, name);
	for (p = v; *p != '\0';) {
		size_t len, eq;
		p += strspn(p, " \t,");
		if (*p == '\0')
			break;
		len = strcspn(p, ",");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		eq = strcspn(p, "=");
		if (*n == max)
			return cer_err(CER_E_INPUT, "%s: ceremony.yaml's %s has more than %d entries",
				       s->path, name, max);
		if (eq == 0 || eq >= len || eq >= sizeof(out->role) || len - eq - 1 >= sizeof(out->card) ||
		    len - eq - 1 == 0 || strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
						  "0123456789_-") != eq)
			return cer_err(CER_E_INPUT, "%s: ceremony.yaml's %s: entry %d is not ROLE=card",
				       s->path, name, *n + 1);
		memcpy(out[*n].role, p, eq);
		out[*n].role[eq] = '\0';
		memcpy(out[*n].card, p + eq + 1, len - eq - 1);
		out[*n].card[len - eq - 1] = '\0';
		for (int i = 0; i < *n; i++)
			if (strcmp(out[i].role, out[*n].role) == 0 || strcmp(out[i].card, out[*n].card) == 0)
				return cer_err(CER_E_INPUT, "%s: ceremony.yaml's %s names %s twice",
					       s->path, name,
					       strcmp(out[i].role, out[*n].role) == 0 ? out[i].role : out[i].card);
		(*n)++;
		p += strcspn(p, ",");
	}
	if (*n == 0)
		return cer_err(CER_E_INPUT, "%s: ceremony.yaml's %s is empty", s->path, name);
	return 0;
}

int script_public_steps(const struct script *s)
{
	int n = 0;

	for (int i = 0; i < s->n_steps; i++)
		n += !s->steps[i].after_seal;
	return n;
}

/* ${LIST.cards}: the cards of a confidential list, comma-separated. */
static const char *list_cards(const struct script *s, const struct config *cfg, const char *key)
{
	struct script_entry e[SCRIPT_MAX_ENTRIES];
	char name[128], joined[SCRIPT_MAX_ENTRIES * 130] = "";
	size_t used = 0, len = strlen(key);
	int n;

	if (len <= 6 || strcmp(key + len - 6, ".cards") != 0 || len - 6 >= sizeof(name) ||
	    s->derived == NULL)
		return NULL;
	memcpy(name, key, len - 6);
	name[len - 6] = '\0';
	if (cfg == NULL || config_get(cfg, name) == NULL)
		return NULL;
	if (script_list(s, cfg, name, e, SCRIPT_MAX_ENTRIES, &n) != 0) {
		cer_err_clear(); /* expansion then says it is not set; the list's own check says why */
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		int w = snprintf(joined + used, sizeof(joined) - used, "%s%s", i ? "," : "", e[i].card);
		if (w < 0 || (size_t)w >= sizeof(joined) - used)
			return NULL;
		used += (size_t)w;
	}
	if (json_object_set_new(s->derived, key, json_string(joined)) != 0)
		return NULL;
	return json_string_value(json_object_get(s->derived, key));
}

static const char *var_lookup(const struct script *s, const struct config *cfg,
			      const char *const *xn, const char *const *xv, int nx, const char *name,
			      size_t len)
{
	char key[128];
	const char *v;

	if (len >= sizeof(key))
		return NULL;
	memcpy(key, name, len);
	key[len] = '\0';
	for (int i = 0; i < nx; i++)
		if (strcmp(xn[i], key) == 0)
			return xv[i];
	if (cfg != NULL && config_get(cfg, key) != NULL)
		return config_get(cfg, key);
	if ((v = list_cards(s, cfg, key)) != NULL)
		return v;
	for (int i = 0; i < s->n_vars; i++)
		if (strcmp(s->var_names[i], key) == 0)
			return s->var_values[i];
	return NULL;
}

int script_expand(const struct script *s, const struct config *cfg, const char *const *extra_names,
		  const char *const *extra_values, int n_extra, const char *in, char *out,
		  size_t size)
{
	size_t o = 0;

	for (const char *p = in; *p != '\0';) {
		const char *val = NULL;
		size_t vlen;

		if (p[0] == '$' && p[1] == '{') {
			const char *end = strchr(p + 2, '}');
			if (end == NULL)
				return cer_err(CER_E_INPUT, "%s: \"%s\": unclosed ${", s->path, in);
			val = var_lookup(s, cfg, extra_names, extra_values, n_extra, p + 2,
					 (size_t)(end - p - 2));
			if (val == NULL)
				return cer_err(CER_E_INPUT, "%s: \"%s\": ${%.*s} is not set (script vars, "
							    "ceremony.yaml)",
					       s->path, in, (int)(end - p - 2), p + 2);
			vlen = strlen(val);
			if (o + vlen >= size)
				return cer_err(CER_E_INPUT, "%s: \"%s\" expands too long", s->path, in);
			memcpy(out + o, val, vlen);
			o += vlen;
			p = end + 1;
			continue;
		}
		if (o + 1 >= size)
			return cer_err(CER_E_INPUT, "%s: \"%s\" expands too long", s->path, in);
		out[o++] = *p++;
	}
	out[o] = '\0';
	return 0;
}

static int need_string(const struct script *s, json_t *v, const char *what, const char **out)
{
	*out = json_string_value(v);
	if (*out == NULL || (*out)[0] == '\0')
		return cer_err(CER_E_INPUT, "%s: %s must be a non-empty text", s->path, what);
	/* What is read aloud and shown must be what the file says: no terminal controls,
	 * no bidi reordering, no invisible characters. */
	for (const unsigned char *p = (const unsigned char *)*out; *p != '\0';) {
		long cp;
		int unsafe;
		size_t n = term_next(p, &cp, &unsafe);
		if (unsafe)
			return cer_err(CER_E_INPUT, "%s: %s holds a control, bidi or invisible "
						    "character (%s%04lx at byte %zu); refused",
				       s->path, what, cp < 0 ? "byte 0x" : "U+", cp < 0 ? (long)*p : cp,
				       (size_t)(p - (const unsigned char *)*out));
		p += n;
	}
	if (strncmp(*out, "file:", 5) == 0)
		return cer_err(CER_E_REFUSED, "%s: %s looks like a secret's source; scripts never "
					      "hold PINs or passphrases or their files",
			       s->path, what);
	return 0;
}

static int load_roles_vars(struct script *s)
{
	json_t *roles = json_object_get(s->doc, "roles"), *vars = json_object_get(s->doc, "vars"), *v;
	const char *k;
	int r;

	if (!json_is_object(roles) || json_object_size(roles) == 0)
		return cer_err(CER_E_INPUT, "%s: roles: a mapping of role to title is required", s->path);
	json_object_foreach(roles, k, v)
	{
		if (s->n_roles == SCRIPT_MAX_ROLES)
			return cer_err(CER_E_INPUT, "%s: too many roles", s->path);
		if ((r = need_string(s, v, "a role's title", &s->role_titles[s->n_roles])) != 0)
			return r;
		s->roles[s->n_roles++] = k;
	}
	if (vars != NULL && !json_is_object(vars))
		return cer_err(CER_E_INPUT, "%s: vars: a mapping of names to values", s->path);
	json_object_foreach(vars, k, v)
	{
		if (s->n_vars == SCRIPT_MAX_VARS)
			return cer_err(CER_E_INPUT, "%s: too many vars", s->path);
		if (strstr(k, "pin") != NULL || strstr(k, "passphrase") != NULL)
			return cer_err(CER_E_REFUSED, "%s: vars.%s: scripts never hold PINs or "
						      "passphrases",
				       s->path, k);
		if ((r = need_string(s, v, k, &s->var_values[s->n_vars])) != 0)
			return r;
		s->var_names[s->n_vars++] = k;
	}
	return 0;
}

static int check_role(const struct script *s, const char *role, const char *where)
{
	if (role == NULL || script_role_title(s, role) == NULL)
		return cer_err(CER_E_INPUT, "%s: %s: role \"%s\" is not declared under roles", s->path,
			       where, role != NULL ? role : "?");
	return 0;
}

static int load_lists(struct script *s, struct script_step *st, json_t *lists)
{
	const char *opt;
	json_t *refs, *ref;
	size_t i;

	if (lists == NULL)
		return 0;
	if (!json_is_object(lists))
		return cer_err(CER_E_INPUT, "%s: step %s: secret_lists: option -> list", s->path, st->id);
	json_object_foreach(lists, opt, refs)
	{
		const char *one = json_string_value(refs), *ldot = one != NULL ? strrchr(one, '.') : NULL;
		/* "LIST.pin": one source per entry of a confidential list (read when run). */
		if (one != NULL && st->n_lists < SCRIPT_MAX_LISTS && is_secret_option(opt) &&
		    ldot != NULL && ldot != one &&
		    (strcmp(ldot, ".pin") == 0 || strcmp(ldot, ".passphrase") == 0)) {
			st->list_option[st->n_lists] = opt;
			st->list_refs[st->n_lists++] = refs;
			continue;
		}
		if (st->n_lists == SCRIPT_MAX_LISTS || !is_secret_option(opt) || !json_is_array(refs))
			return cer_err(CER_E_INPUT, "%s: step %s: secret_lists.%s is not a secret option "
						    "with a list of ROLE.pin / ROLE.passphrase",
				       s->path, st->id, opt);
		json_array_foreach(refs, i, ref)
		{
			const char *v = json_string_value(ref), *dot = v != NULL ? strchr(v, '.') : NULL;
			char role[64];
			if (dot == NULL || (size_t)(dot - v) >= sizeof(role) ||
			    (strcmp(dot, ".pin") != 0 && strcmp(dot, ".passphrase") != 0))
				return cer_err(CER_E_INPUT, "%s: step %s: \"%s\" is not ROLE.pin or "
							    "ROLE.passphrase",
					       s->path, st->id, v != NULL ? v : "?");
			memcpy(role, v, (size_t)(dot - v));
			role[dot - v] = '\0';
			if (check_role(s, role, st->id) != 0)
				return CER_E_INPUT;
		}
		st->list_option[st->n_lists] = opt;
		st->list_refs[st->n_lists++] = refs;
	}
	return 0;
}

static int load_step(struct script *s, json_t *j, int act, int in_act, const char *act_title,
		     int after_seal)
{
	struct script_step *st;
	json_t *run = json_object_get(j, "run"), *a;
	const char *k;
	json_t *v;
	size_t i;
	int r;

	if (s->n_steps == SCRIPT_MAX_STEPS)
		return cer_err(CER_E_INPUT, "%s: more than %d steps", s->path, SCRIPT_MAX_STEPS);
	st = &s->steps[s->n_steps];
	memset(st, 0, sizeof(*st));
	st->act = act;
	st->number = s->n_steps + 1;
	st->after_seal = after_seal;
	st->act_title = act_title;
	if ((r = after_seal
		     ? text_format(st->id, sizeof(st->id), "step id", "after.%d", act)
		     : text_format(st->id, sizeof(st->id), "step id", "%d.%d", act, in_act)) != 0)
		return r;
	if (!json_is_object(j))
		return cer_err(CER_E_INPUT, "%s: step %s is not a mapping", s->path, st->id);
	json_object_foreach(j, k, v)
	{
		if (strcmp(k, "role") && strcmp(k, "say") && strcmp(k, "confirm") && strcmp(k, "run") &&
		    strcmp(k, "pin") && strcmp(k, "so_pin") && strcmp(k, "secret_lists") &&
		    strcmp(k, "each") && strcmp(k, "annex"))
			return cer_err(CER_E_INPUT, "%s: step %s: unknown setting \"%s\"", s->path,
				       st->id, k);
	}
	if ((r = need_string(s, json_object_get(j, "role"), "a step's role", &st->role)) != 0 ||
	    (!(json_object_get(j, "each") != NULL && strcmp(st->role, SCRIPT_EACH_ROLE) == 0) &&
	     (r = check_role(s, st->role, st->id)) != 0) ||
	    (r = need_string(s, json_object_get(j, "say"), "a step's say", &st->say)) != 0)
		return r;
	if (json_object_get(j, "confirm") != NULL &&
	    (r = need_string(s, json_object_get(j, "confirm"), "a step's confirm", &st->confirm)) != 0)
		return r;
	st->index = s->n_steps;
	if (json_object_get(j, "each") != NULL &&
	    (r = need_string(s, json_object_get(j, "each"), "a step's each", &st->each)) != 0)
		return r;
	if (json_object_get(j, "annex") != NULL && !json_is_boolean(json_object_get(j, "annex")))
		return cer_err(CER_E_INPUT, "%s: step %s: annex is true or false", s->path, st->id);
	st->annex = st->each != NULL || json_is_true(json_object_get(j, "annex"));
	if (st->annex && after_seal)
		return cer_err(CER_E_INPUT, "%s: step %s: after the seal nothing goes to the annex "
					    "(it is sealed with the transcript)",
			       s->path, st->id);
	st->pin_role = json_string_value(json_object_get(j, "pin"));
	st->so_pin_role = json_string_value(json_object_get(j, "so_pin"));
	/* ${each.role}: the entry's role, in a step run once per entry. */
	if ((st->pin_role != NULL &&
	     !(st->each != NULL && strcmp(st->pin_role, SCRIPT_EACH_ROLE) == 0) &&
	     (r = check_role(s, st->pin_role, st->id)) != 0) ||
	    (st->so_pin_role != NULL &&
	     !(st->each != NULL && strcmp(st->so_pin_role, SCRIPT_EACH_ROLE) == 0) &&
	     (r = check_role(s, st->so_pin_role, st->id)) != 0))
		return r;
	if (run != NULL) {
		if (!json_is_array(run) || json_array_size(run) == 0 ||
		    json_array_size(run) > SCRIPT_MAX_ARGS)
			return cer_err(CER_E_INPUT, "%s: step %s: run is a list of arguments", s->path,
				       st->id);
		json_array_foreach(run, i, a)
		{
			if ((r = need_string(s, a, "an argument", &st->args[i])) != 0)
				return r;
			if (is_secret_option(st->args[i]))
				return cer_err(CER_E_REFUSED, "%s: step %s: %s is added by the runner "
							      "from the answers, never written in a "
							      "script",
					       s->path, st->id, st->args[i]);
			if (script_option_abbreviated(st->args[i], secret_options,
						      sizeof(secret_options) /
							      sizeof(secret_options[0])) != NULL)
				return cer_err(CER_E_REFUSED, "%s: step %s: \"%.*s\" abbreviates %s, "
							      "which the runner adds from the answers; "
							      "options are never abbreviated",
					       s->path, st->id, (int)strcspn(st->args[i], "="),
					       st->args[i],
					       script_option_abbreviated(
						       st->args[i], secret_options,
						       sizeof(secret_options) / sizeof(secret_options[0])));
		}
		st->n_args = (int)json_array_size(run);
		if (strcmp(st->args[0], "run") == 0)
			return cer_err(CER_E_INPUT, "%s: step %s: a script cannot run a script",
				       s->path, st->id);
	}
	if (st->n_args == 0 && st->confirm == NULL)
		return cer_err(CER_E_INPUT, "%s: step %s needs run, confirm, or both", s->path, st->id);
	if ((r = load_lists(s, st, json_object_get(j, "secret_lists"))) != 0)
		return r;
	s->n_steps++;
	return 0;
}

static int load_acts(struct script *s)
{
	json_t *acts = json_object_get(s->doc, "acts"), *act, *steps, *step, *after;
	size_t i, j;
	int r;

	if (!json_is_array(acts) || json_array_size(acts) == 0)
		return cer_err(CER_E_INPUT, "%s: acts: a list of acts is required", s->path);
	json_array_foreach(acts, i, act)
	{
		const char *title;
		if ((r = need_string(s, json_object_get(act, "title"), "an act's title", &title)) != 0)
			return r;
		steps = json_object_get(act, "steps");
		if (!json_is_array(steps) || json_array_size(steps) == 0)
			return cer_err(CER_E_INPUT, "%s: act %zu: steps: a list is required", s->path,
				       i + 1);
		json_array_foreach(steps, j, step)
		{
			if ((r = load_step(s, step, (int)i + 1, (int)j + 1, title, 0)) != 0)
				return r;
		}
		s->n_acts++;
	}
	after = json_object_get(s->doc, "after_seal");
	json_array_foreach(after, j, step)
	{
		if ((r = load_step(s, step, s->n_acts + 1, (int)j + 1, "After the seal", 1)) != 0)
			return r;
	}
	return 0;
}

/* requests: [{file, profile, spki_sha256, subject}, ...] */
static int load_requests(struct script *s)
{
	json_t *list = json_object_get(s->doc, "requests"), *j;
	size_t i;
	int r;

	if (list == NULL)
		return 0;
	if (!json_is_array(list) || json_array_size(list) == 0)
		return cer_err(CER_E_INPUT, "%s: requests: a list of {file, profile, spki_sha256, subject}",
			       s->path);
	if (json_array_size(list) > SCRIPT_MAX_REQUESTS)
		return cer_err(CER_E_INPUT, "%s: more than %d requests", s->path, SCRIPT_MAX_REQUESTS);
	json_array_foreach(list, i, j)
	{
		struct script_request *q = &s->requests[s->n_requests];
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v)
		{
			if (strcmp(k, "file") != 0 && strcmp(k, "profile") != 0 &&
			    strcmp(k, "spki_sha256") != 0 && strcmp(k, "subject") != 0)
				return cer_err(CER_E_INPUT, "%s: requests[%zu].%s: unknown setting",
					       s->path, i, k);
		}
		if ((r = need_string(s, json_object_get(j, "file"), "requests[].file", &q->file)) != 0 ||
		    (r = need_string(s, json_object_get(j, "profile"), "requests[].profile",
				     &q->profile)) != 0 ||
		    (r = need_string(s, json_object_get(j, "spki_sha256"), "requests[].spki_sha256",
				     &q->spki_sha256)) != 0 ||
		    (r = need_string(s, json_object_get(j, "subject"), "requests[].subject",
				     &q->subject)) != 0)
			return r;
		for (int m = 0; m < s->n_requests; m++)
			if (strcmp(s->requests[m].file, q->file) == 0)
				return cer_err(CER_E_INPUT, "%s: requests: %s is pinned twice", s->path,
					       q->file);
		s->n_requests++;
	}
	return 0;
}

int script_load(const char *path, const struct config *cfg, struct script **out)
{
	static const char *const known[] = {"ceremony", "title", "vars",       "roles",
					    "media",	"seal",	 "acts",       "after_seal",
					    "requests", "annex"};
	struct script *s;
	const char *k;
	json_t *v;
	int r;

	(void)cfg;
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if (snprintf(s->path, sizeof(s->path), "%s", path) >= (int)sizeof(s->path)) {
		r = cer_err(CER_E_INPUT, "script path too long");
		goto fail;
	}
	if ((s->derived = json_object()) == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto fail;
	}
	if ((r = yamljson_load(path, SCRIPT_MAX_BYTES, &s->doc)) != 0 ||
	    (r = file_sha256(path, s->sha256)) != 0)
		goto fail;
	if (!json_is_object(s->doc)) {
		r = cer_err(CER_E_INPUT, "%s: a script is a mapping", path);
		goto fail;
	}
	json_object_foreach(s->doc, k, v)
	{
		size_t i;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(k, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0])) {
			r = cer_err(CER_E_INPUT, "%s: %s: unknown setting", path, k);
			goto fail;
		}
	}
	if ((r = need_string(s, json_object_get(s->doc, "ceremony"), "ceremony", &s->id)) != 0 ||
	    (r = need_string(s, json_object_get(s->doc, "title"), "title", &s->title)) != 0 ||
	    (r = load_roles_vars(s)) != 0)
		goto fail;
	if (json_object_get(s->doc, "media") != NULL &&
	    (r = need_string(s, json_object_get(s->doc, "media"), "media", &s->media)) != 0)
		goto fail;
	s->seal = json_object_get(s->doc, "seal");
	if (s->seal != NULL) {
		const char *t;
		if ((r = need_string(s, json_object_get(s->seal, "role"), "seal.role", &t)) != 0 ||
		    (r = check_role(s, t, "seal")) != 0 ||
		    (r = need_string(s, json_object_get(s->seal, "token"), "seal.token", &t)) != 0 ||
		    (r = need_string(s, json_object_get(s->seal, "key"), "seal.key", &t)) != 0)
			goto fail;
	}
	if (json_object_get(s->doc, "annex") != NULL &&
	    (r = need_string(s, json_object_get(s->doc, "annex"), "annex", &s->annex_dir)) != 0)
		goto fail;
	if ((r = load_acts(s)) != 0 || (r = load_requests(s)) != 0)
		goto fail;
	for (int i = 0; i < s->n_steps; i++)
		if (s->steps[i].annex && s->annex_dir == NULL) {
			r = cer_err(CER_E_INPUT, "%s: step %s records in the confidential annex: the "
						 "script needs annex: FOLDER (kept with the internal "
						 "records, never with the public transcripts)",
				    path, s->steps[i].id);
			goto fail;
		}
	*out = s;
	return 0;
fail:
	script_free(s);
	return r;
}

void script_free(struct script *s)
{
	if (s == NULL)
		return;
	json_decref(s->doc);
	json_decref(s->derived);
	free(s);
}

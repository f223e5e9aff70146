/* approve: the quorum commands' operations (see approve.h). */
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/approve.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/readaloud.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"

/* Every rule can be met by the active, approved officers. */
static int policy_feasible(const struct quorum_state *st, const struct quorum_policy *p)
{
	for (int op = 0; op < QOP_COUNT; op++)
		for (int c = 0; c < p->rules[op].n; c++) {
			const struct quorum_clause *cl = &p->rules[op].c[c];
			int have = 0;
			for (size_t i = 0; i < st->n_officers; i++)
				have += st->officers[i].retired[0] == '\0' &&
					!st->officers[i].unapproved &&
					quorum_role_matches(st->officers[i].role, cl->role);
			if (have < cl->need)
				return cer_err(CER_E_REFUSED,
					       "%s needs %d of %s, but %d such officer%s registered: "
					       "register the officers first (witness register)",
					       quorum_op_name((enum quorum_op)op), cl->need, cl->role,
					       have, have == 1 ? " is" : "s are");
		}
	return 0;
}

static json_t *officers_json(const struct quorum_state *st)
{
	json_t *a = json_array();
	char hex[SHA256_HEX_SIZE];

	for (size_t i = 0; a != NULL && i < st->n_officers; i++) {
		const struct quorum_officer *o = &st->officers[i];
		if (o->retired[0] != '\0' || o->unapproved)
			continue;
		hex_encode(o->spki_sha256, SHA256_LEN, hex);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "role", o->role, "name",
						   o->name, "spki_sha256", hex));
	}
	return a;
}

static void policy_print(const struct quorum_policy *p, FILE *out)
{
	char text[160];

	for (int op = 0; op < QOP_COUNT; op++) {
		quorum_rule_text(&p->rules[op], text, sizeof(text));
		fprintf(out, "  %-17s %s\n", quorum_op_name((enum quorum_op)op), text);
	}
	readaloud_print(out, "policy sha256", p->sha256, 32);
}

int approve_policy_set(struct ceremony_ctx *ctx, const char *policy_path, const char *history_dir,
		       const struct approve_opts *ao, FILE *out)
{
	struct quorum_policy p;
	struct quorum_state st;
	struct transcript *tr = NULL;
	struct approve_item item;
	struct approve_request rq;
	char dir[PATH_MAX], hex[SHA256_HEX_SIZE];
	const char *tpath;
	int r, change, approved = 0;

	quorum_state_init(&st);
	if ((r = quorum_policy_load(policy_path, &p)) != 0 ||
	    (r = ctx_history_dir(ctx, history_dir, "quorum", dir, sizeof(dir), &tpath)) != 0 ||
	    (r = quorum_state_load(&st, dir, tpath)) != 0)
		goto out;
	change = st.has_policy;
	if (!change && !st.root_here) {
		r = cer_err(CER_E_REFUSED,
			    "%s records no root certificate: the first quorum policy is fixed in the "
			    "root key generation ceremony; nothing was recorded",
			    tpath);
		goto out;
	}
	if (!change && ao->approvers != NULL) {
		r = cer_err(CER_E_USAGE, "the first policy needs no approvals (--approvers)");
		goto out;
	}
	if ((r = policy_feasible(&st, &p)) != 0)
		goto out;
	fprintf(out, "Quorum policy %s:\n", policy_path);
	policy_print(&p, out);
	if ((r = ctx_transcript_open(ctx, "quorum policy", &tr)) != 0)
		goto out;
	if (change) {
		memset(&item, 0, sizeof(item));
		memcpy(item.tbs_sha256, p.sha256, SHA256_LEN);
		hex_encode(p.sha256, SHA256_LEN, hex);
		if ((r = text_format(item.what, sizeof(item.what), "the approval's text",
				     "the new quorum policy %s (sha256 %s)", policy_path, hex)) !=
		    0)
			goto out;
		memset(&rq, 0, sizeof(rq));
		rq.op = QOP_POLICY_CHANGE;
		rq.n_items = 1;
		rq.items = &item;
		rq.history_dir = history_dir;
		if ((r = approve_collect(ctx, tr, &rq, ao, out, &approved)) != 0)
			goto out;
		if (!approved) {
			r = cer_err(CER_E_INTERNAL, "the policy change was not approved");
			goto out;
		}
	}
	hex_encode(p.sha256, SHA256_LEN, hex);
	r = transcript_append(tr, "quorum.policy", NULL, NULL,
			      json_pack("{s:{s:o, s:s, s:b, s:o}}", "quorum_policy", "policy",
					quorum_policy_json(&p), "policy_sha256", hex, "change",
					change, "officers", officers_json(&st)),
			      NULL);
	if (r != 0)
		goto out;
	fprintf(out, "Quorum policy %s and recorded in %s.\n", change ? "changed" : "fixed", tpath);
out:
	transcript_close(tr);
	quorum_state_free(&st);
	return r;
}

int approve_officer_register(struct ceremony_ctx *ctx, struct transcript *tr, const char *role,
			     const char *name, const char *card,
			     const uint8_t spki_sha256[SHA256_LEN], const struct approve_opts *ao,
			     FILE *out)
{
	struct approve_item item;
	struct approve_request rq;
	char hex[SHA256_HEX_SIZE];
	int r, approved = 0;

	memset(&item, 0, sizeof(item));
	memcpy(item.tbs_sha256, spki_sha256, SHA256_LEN);
	hex_encode(spki_sha256, SHA256_LEN, hex);
	if ((r = text_format(
		 item.what, sizeof(item.what), "the approval's text",
		 "register officer %s (%.128s): the key with SPKI sha256 %s on card \"%s\"", role,
		 name, hex, card)) != 0)
		return r;
	memset(&rq, 0, sizeof(rq));
	rq.op = QOP_OFFICER_REGISTER;
	rq.n_items = 1;
	rq.items = &item;
	return approve_collect(ctx, tr, &rq, ao, out, &approved);
}

int approve_retire(struct ceremony_ctx *ctx, const char *role, const char *history_dir,
		   const struct approve_opts *ao, FILE *out)
{
	struct quorum_state st;
	struct transcript *tr = NULL;
	struct approve_item item;
	struct approve_request rq;
	const struct quorum_officer *o;
	char dir[PATH_MAX], hex[SHA256_HEX_SIZE], name[QUORUM_NAME_MAX + 1];
	const char *tpath;
	size_t idx;
	int r, approved = 0;

	quorum_state_init(&st);
	if ((r = ctx_history_dir(ctx, history_dir, "quorum", dir, sizeof(dir), &tpath)) != 0 ||
	    (r = quorum_state_load(&st, dir, tpath)) != 0)
		goto out;
	if (!st.has_policy) {
		r = cer_err(CER_E_REFUSED, "%s: no quorum policy in this history: nothing to retire "
					   "from; nothing was recorded",
			    dir);
		goto out;
	}
	if ((o = quorum_officer_by_role(&st, role)) == NULL) {
		r = cer_err(CER_E_NOTFOUND, "%s is not an active officer; nothing was recorded", role);
		goto out;
	}
	/* Retiring must leave every rule of the policy possible. */
	idx = (size_t)(o - st.officers);
	st.officers[idx].retired[0] = '-';
	r = policy_feasible(&st, &st.policy);
	st.officers[idx].retired[0] = '\0';
	if (r != 0) {
		cer_err_prefix("retiring %s would leave the policy unmeetable: ", role);
		goto out;
	}
	memset(&item, 0, sizeof(item));
	memcpy(item.tbs_sha256, o->spki_sha256, SHA256_LEN);
	hex_encode(o->spki_sha256, SHA256_LEN, hex);
	if ((r = text_copy(name, sizeof(name), "officer name", o->name)) != 0 ||
	    (r = text_format(
		 item.what, sizeof(item.what), "the approval's text",
		 "retire officer %s (%.128s): the key with SPKI sha256 %s, registered at "
		 "%.80s",
		 role, o->name, hex, o->where)) != 0)
		goto out;
	memset(&rq, 0, sizeof(rq));
	rq.op = QOP_OFFICER_RETIRE;
	rq.n_items = 1;
	rq.items = &item;
	rq.history_dir = history_dir;
	if ((r = ctx_transcript_open(ctx, "quorum retire", &tr)) != 0 ||
	    (r = approve_collect(ctx, tr, &rq, ao, out, &approved)) != 0)
		goto out;
	r = transcript_append(tr, "quorum.retire", NULL, NULL,
			      json_pack("{s:{s:s, s:s, s:s}}", "quorum_retire", "role", role, "name",
					name, "spki_sha256", hex),
			      NULL);
	if (r == 0)
		fprintf(out, "Officer %s (%s) retired; recorded in %s.\n", role, name, tpath);
out:
	transcript_close(tr);
	quorum_state_free(&st);
	return r;
}

int approve_show(struct ceremony_ctx *ctx, const char *history_dir, FILE *out)
{
	struct quorum_state st;
	char dir[PATH_MAX];
	const char *tpath = NULL;
	int r;

	quorum_state_init(&st);
	if (history_dir != NULL) {
		if (snprintf(dir, sizeof(dir), "%s", history_dir) >= (int)sizeof(dir))
			return cer_err(CER_E_INPUT, "%s: path too long", history_dir);
	} else if ((r = ctx_history_dir(ctx, NULL, "quorum", dir, sizeof(dir), &tpath)) != 0) {
		return r;
	}
	if ((r = quorum_state_load(&st, dir, tpath)) != 0)
		goto out;
	if (!st.has_policy) {
		fprintf(out, "No quorum policy in %s.\n", dir);
	} else {
		fprintf(out, "Quorum policy in force (%s):\n", st.policy_where);
		policy_print(&st.policy, out);
	}
	fprintf(out, "Officers:\n");
	for (size_t i = 0; i < st.n_officers; i++) {
		const struct quorum_officer *o = &st.officers[i];
		fprintf(out, "  %-6s %-24s card \"%s\" key \"%s\"  %s%s%s\n", o->role, o->name,
			o->card_label, o->key_label, o->where,
			o->retired[0] != '\0' ? ", retired " : "", o->retired);
	}
	r = 0;
out:
	quorum_state_free(&st);
	return r;
}

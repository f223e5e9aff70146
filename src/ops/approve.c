#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ceremony/approve.h"
#include "ceremony/cardsign.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/hsm.h"
#include "ceremony/p11key.h"
#include "ceremony/readaloud.h"
#include "ceremony/secret.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"

struct approver_list {
	char *storage_roles, *storage_pins;
	size_t n;
	const char *roles[QUORUM_MAX_APPROVALS];
	const char *pins[QUORUM_MAX_APPROVALS];
	const struct quorum_officer *officers[QUORUM_MAX_APPROVALS];
};

static int split(const char *s, const char *option, char **storage, const char **items,
		 size_t *n)
{
	char *p, *save = NULL;

	*n = 0;
	if ((*storage = strdup(s)) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (p = strtok_r(*storage, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
		if (*n == QUORUM_MAX_APPROVALS)
			return cer_err(CER_E_USAGE, "%s: more than %d entries", option,
				       QUORUM_MAX_APPROVALS);
		items[(*n)++] = p;
	}
	return *n == 0 ? cer_err(CER_E_USAGE, "%s is empty", option) : 0;
}

static void approvers_free(struct approver_list *l)
{
	free(l->storage_roles);
	free(l->storage_pins);
}

/* Every check that needs no card: officers exist, are active, differ, and can meet the rule. */
static int approvers_plan(const struct quorum_state *st, enum quorum_op op,
			  const struct approve_opts *ao, struct approver_list *l)
{
	const struct quorum_rule *rule = &st->policy.rules[op];
	char want[160];
	size_t npins = 0;
	int r;

	quorum_rule_text(rule, want, sizeof(want));
	if (ao->approvers == NULL)
		return cer_err(CER_E_REFUSED,
			       "%s needs approvals of %s (quorum policy, %s); none were given "
			       "(--approvers ROLE,ROLE)",
			       quorum_op_name(op), want, st->policy_where);
	if ((r = split(ao->approvers, "--approvers", &l->storage_roles, l->roles, &l->n)) != 0)
		return r;
	if (ao->pin_sources != NULL) {
		if ((r = split(ao->pin_sources, "--approver-pin-sources", &l->storage_pins, l->pins,
			       &npins)) != 0)
			return r;
		if (npins != l->n)
			return cer_err(CER_E_USAGE,
				       "--approver-pin-sources has %zu entries for %zu approvers",
				       npins, l->n);
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct quorum_officer *o = quorum_officer_by_role(st, l->roles[i]);
		if (o == NULL)
			return cer_err(CER_E_REFUSED, "%s is not a registered officer (or was retired)",
				       l->roles[i]);
		if (o->unapproved)
			return cer_err(CER_E_REFUSED,
				       "%s's key was registered (%s) without the quorum's approval",
				       l->roles[i], o->where);
		for (size_t j = 0; j < i; j++)
			if (l->officers[j] == o || strcmp(l->officers[j]->name, o->name) == 0)
				return cer_err(CER_E_REFUSED,
					       "%s (%s) is named twice: approvals must come from "
					       "distinct people",
					       o->name, l->roles[i]);
		l->officers[i] = o;
	}
	return quorum_rule_check(rule, l->officers, l->n, op);
}

static void show_request(const struct quorum_state *st, const struct approve_request *rq,
			 const struct quorum_subject *s, FILE *out)
{
	char want[160];

	quorum_rule_text(&st->policy.rules[rq->op], want, sizeof(want));
	fprintf(out, "Approval of %s needed from %s (quorum policy, %s). Read aloud:\n",
		quorum_op_name(rq->op), want, st->policy_where);
	for (size_t i = 0; i < rq->n_items; i++)
		fprintf(out, "  %s\n", rq->items[i].what);
	readaloud_print(out, rq->n_items == 1 ? "TBS sha256" : "TBS list sha256", s->tbs_sha256,
			32);
	fprintf(out, "  ceremony \"%s\", transcript record #%ld\n", s->ceremony, s->position);
}

/* One officer: their card, their PIN, the statement signed on the card. */
static int approve_one(struct ceremony_ctx *ctx, const struct quorum_officer *o,
		       const char *pin_source, const struct quorum_subject *s, json_t *approvals,
		       FILE *out)
{
	struct hsm h;
	struct p11key k;
	struct secret *pin = NULL;
	uint8_t *spki = NULL, md[SHA256_LEN], sig[CARDSIGN_P256_DER_MAX];
	char what[160], *stmt = NULL, spki_hex[SHA256_HEX_SIZE],
			sig_hex[2 * CARDSIGN_P256_DER_MAX + 1];
	size_t spki_len = 0, sig_len = sizeof(sig);
	unsigned int mdlen = 0;
	int r;

	memset(&h, 0, sizeof(h));
	fprintf(out, "%s (%s): insert your card \"%s\"; your PIN approves the bytes read aloud.\n",
		o->role, o->name, o->card_label);
	fflush(out);
	if ((r = hsm_open(ctx, o->card_label, &h)) != 0)
		goto out;
	if (strcmp(h.token.serial, o->card_serial) != 0) {
		r = cer_err(CER_E_REFUSED, "card \"%s\" has serial %s, but %s registered serial %s",
			    o->card_label, h.token.serial, o->role, o->card_serial);
		goto out;
	}
	if (snprintf(what, sizeof(what), "card PIN of %s (card \"%s\")", o->role, o->card_label) >=
	    (int)sizeof(what))
		what[sizeof(what) - 1] = '\0';
	if ((r = secret_read(pin_source, what, SECRET_PIN_MAX, &pin)) != 0)
		goto out;
	r = p11_login(h.session, CKU_USER, pin);
	secret_free(pin); /* STYLE 14: wiped right after C_Login */
	if (r != 0 || (r = p11key_find(h.session, o->key_label, &k)) != 0 ||
	    (r = p11key_spki(h.session, &k, &spki, &spki_len)) != 0)
		goto out;
	if (!EVP_Digest(spki, spki_len, md, &mdlen, EVP_sha256(), NULL) ||
	    CRYPTO_memcmp(md, o->spki_sha256, SHA256_LEN) != 0) {
		r = cer_err(CER_E_REFUSED, "card \"%s\": key \"%s\" is not the key %s registered (%s)",
			    o->card_label, o->key_label, o->role, o->where);
		goto out;
	}
	if ((r = quorum_statement(s, o->role, o->spki_sha256, &stmt)) != 0 ||
	    !EVP_Digest(stmt, strlen(stmt), md, &mdlen, EVP_sha256(), NULL) ||
	    (r = cardsign_p256(h.session, &k, md, sig, &sig_len)) != 0) {
		r = r != 0 ? r : cer_err_ssl(CER_E_CRYPTO, "cannot hash the statement");
		goto out;
	}
	hex_encode(o->spki_sha256, SHA256_LEN, spki_hex);
	hex_encode(sig, sig_len, sig_hex);
	if (json_array_append_new(approvals,
				  json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "role", o->role, "name",
					    o->name, "card", o->card_label, "signer_spki_sha256",
					    spki_hex, "statement", stmt, "signature", sig_hex)) != 0) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	fprintf(out, "  %s signed the approval statement on card \"%s\" (key \"%s\")\n", o->role,
		o->card_label, o->key_label);
out:
	if (r != 0)
		cer_err_prefix("%s's approval: ", o->role);
	free(stmt);
	free(spki);
	/* The card may also be logged in for a backup in this process: keep that login. */
	p11_session_close_shared(h.session);
	h.session = NULL;
	hsm_close(&h);
	return r;
}

static json_t *request_json(const struct approve_request *rq, const struct quorum_subject *s,
			    const struct quorum_state *st, json_t *approvals)
{
	json_t *items = json_array();
	char hex[SHA256_HEX_SIZE], csr[SHA256_HEX_SIZE], prof[SHA256_HEX_SIZE],
	    pol[SHA256_HEX_SIZE];

	for (size_t i = 0; items != NULL && i < rq->n_items; i++) {
		hex_encode(rq->items[i].tbs_sha256, SHA256_LEN, hex);
		hex_encode(rq->items[i].csr_sha256, SHA256_LEN, csr);
		json_array_append_new(items, json_pack("{s:s, s:s?, s:s}", "tbs_sha256", hex,
						       "csr_sha256",
						       rq->items[i].has_csr ? csr : NULL, "what",
						       rq->items[i].what));
	}
	hex_encode(s->tbs_sha256, SHA256_LEN, hex);
	hex_encode(s->profile_sha256, SHA256_LEN, prof);
	hex_encode(st->policy.sha256, SHA256_LEN, pol);
	return json_pack("{s:s, s:s, s:o, s:s?, s:s, s:o}", "operation", quorum_op_name(rq->op),
			 "tbs_sha256", hex, "items", items, "profile_sha256",
			 rq->has_profile ? prof : NULL, "policy_sha256", pol, "approvals", approvals);
}

static int subject_build(const struct approve_request *rq, struct transcript *tr,
			 struct quorum_subject *s)
{
	uint8_t(*tbs)[SHA256_LEN] = calloc(rq->n_items, SHA256_LEN),
	(*csr)[SHA256_LEN] = calloc(rq->n_items, SHA256_LEN);
	int all_csr = 1;

	memset(s, 0, sizeof(*s));
	s->op = rq->op;
	s->n_items = rq->n_items;
	for (size_t i = 0; tbs != NULL && csr != NULL && i < rq->n_items; i++) {
		memcpy(tbs[i], rq->items[i].tbs_sha256, SHA256_LEN);
		memcpy(csr[i], rq->items[i].csr_sha256, SHA256_LEN);
		all_csr &= rq->items[i].has_csr;
	}
	if (tbs != NULL && csr != NULL) {
		quorum_combine((const uint8_t(*)[SHA256_LEN])tbs, rq->n_items, s->tbs_sha256);
		if (all_csr) {
			s->has_csr = 1;
			quorum_combine((const uint8_t(*)[SHA256_LEN])csr, rq->n_items,
				       s->csr_sha256);
		}
	}
	free(tbs);
	free(csr);
	s->has_profile = rq->has_profile;
	memcpy(s->profile_sha256, rq->profile_sha256, SHA256_LEN);
	s->position = transcript_next_seq(tr);
	return text_copy(s->ceremony, sizeof(s->ceremony), "ceremony id", transcript_ceremony(tr));
}

static int record_refusal(struct transcript *tr, const struct approve_request *rq,
			  const struct quorum_subject *s, int code)
{
	char why[CER_ERR_DETAIL_SIZE], hex[SHA256_HEX_SIZE];

	/* The failure's own detail: why has CER_ERR_DETAIL_SIZE bytes, it fits whole. */
	text_format_cut(why, sizeof(why), "%s", cer_err_msg(code));
	hex_encode(s->tbs_sha256, SHA256_LEN, hex);
	if (rq->defer != NULL) /* the operation's own error says what was left unchanged */
		return cer_err(code, "%s; nothing was done", why);
	if (transcript_append(tr, "quorum.refused", NULL, NULL,
			      json_pack("{s:{s:s, s:s, s:s}}", "quorum", "operation",
					quorum_op_name(rq->op), "tbs_sha256", hex, "reason", why),
			      NULL) != 0)
		return cer_err(code, "%s; nothing was signed (and the refusal could not be recorded)",
			       why);
	return cer_err(code, "%s; nothing was signed", why);
}

int approve_collect(struct ceremony_ctx *ctx, struct transcript *tr,
		    const struct approve_request *rq, const struct approve_opts *ao, FILE *out,
		    int *approved)
{
	struct quorum_state st;
	struct quorum_subject s;
	struct approver_list l;
	json_t *approvals = NULL;
	char dir[PATH_MAX];
	const char *tpath;
	long seq = 0;
	int r;

	*approved = 0;
	memset(&l, 0, sizeof(l));
	quorum_state_init(&st);
	if (rq->n_items == 0 || rq->n_items > QUORUM_MAX_ITEMS)
		return cer_err(CER_E_INTERNAL, "%zu items to approve", rq->n_items);
	if ((r = ctx_history_dir(ctx, rq->history_dir, quorum_op_name(rq->op), dir, sizeof(dir),
				&tpath)) != 0 ||
	    (r = quorum_state_load_known(&st, dir, tpath, rq->history)) != 0)
		goto out;
	if (!st.has_policy) {
		if (ao->approvers != NULL) {
			r = cer_err(CER_E_REFUSED,
				    "%s: no quorum policy in this history, so --approvers cannot be "
				    "checked; nothing was signed",
				    dir);
			goto out;
		}
		fprintf(out, "No quorum policy in this CA's history (%s): no approvals asked.\n", dir);
		r = 0;
		goto out;
	}
	if ((r = subject_build(rq, tr, &s)) != 0)
		goto out;
	if ((r = approvers_plan(&st, rq->op, ao, &l)) != 0) {
		r = record_refusal(tr, rq, &s, r);
		goto out;
	}
	s.position = transcript_next_seq(tr); /* after any record the plan wrote */
	show_request(&st, rq, &s, out);
	approvals = json_array();
	if (approvals == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < l.n; i++)
		if ((r = approve_one(ctx, l.officers[i], l.pins[i], &s, approvals, out)) != 0) {
			r = record_refusal(tr, rq, &s, r);
			goto out;
		}
	if ((r = quorum_approvals_check(&st, &s, approvals)) != 0) {
		r = record_refusal(tr, rq, &s, r);
		goto out;
	}
	json_incref(approvals);
	if (rq->defer != NULL) {
		*rq->defer = request_json(rq, &s, &st, approvals);
		r = *rq->defer != NULL ? 0 : cer_err(CER_E_NOMEM, "out of memory");
		if (r == 0) {
			fprintf(out, "\u2713 %zu approvals checked against the registered keys and the "
				     "policy; recorded with the operation (#%ld)\n",
				l.n, s.position);
			*approved = 1;
		}
		goto out;
	}
	/* Nested under "quorum": transcript verify treats a bare spki_sha256 in details as a sealer. */
	r = transcript_append(tr, "quorum.approve", NULL, NULL,
			      json_pack("{s:o}", "quorum", request_json(rq, &s, &st, approvals)),
			      &seq);
	if (r == 0 && seq != s.position)
		r = cer_err(CER_E_INTERNAL, "the approvals were recorded as #%ld, not #%ld", seq,
			    s.position);
	if (r != 0)
		goto out;
	fprintf(out, "\u2713 %zu approvals checked against the registered keys and the policy; "
		     "recorded as #%ld\n",
		l.n, seq);
	*approved = 1;
out:
	json_decref(approvals);
	approvers_free(&l);
	quorum_state_free(&st);
	return r;
}

int approve_precheck(struct ceremony_ctx *ctx, enum quorum_op op, const char *history_dir,
		     const struct approve_opts *ao)
{
	struct quorum_state st;
	struct approver_list l;
	char dir[PATH_MAX];
	const char *tpath;
	int r;

	memset(&l, 0, sizeof(l));
	quorum_state_init(&st);
	if ((r = ctx_history_dir(ctx, history_dir, quorum_op_name(op), dir, sizeof(dir), &tpath)) !=
		    0 ||
	    (r = quorum_state_load(&st, dir, tpath)) != 0)
		goto out;
	if (!st.has_policy)
		r = ao->approvers != NULL
			    ? cer_err(CER_E_REFUSED,
				      "%s: no quorum policy in this history, so --approvers cannot be "
				      "checked",
				      dir)
			    : 0;
	else
		r = approvers_plan(&st, op, ao, &l);
out:
	approvers_free(&l);
	quorum_state_free(&st);
	return r;
}

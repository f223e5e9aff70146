#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony/certbuild.h"
#include "ceremony/certinfo.h"
#include "ceremony/encode.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/history.h"
#include "ceremony/hsm.h"
#include "ceremony/hsmkey.h"
#include "ceremony/p11key.h"
#include "ceremony/pem.h"
#include "ceremony/transcript.h"
#include "issue_int.h"

struct issue_run {
	const struct issue_opts *o;
	struct profile profile;
	X509 *issuer;
	struct history *history;
	struct transcript *tr;
	struct issue_item items[ISSUE_MAX_BATCH];
	size_t n_items;
};

int issue_chain_path(const char *cert_path, char *out, size_t size)
{
	size_t len = strlen(cert_path);
	int n;

	if (len > 4 && strcmp(cert_path + len - 4, ".pem") == 0)
		n = snprintf(out, size, "%.*s-chain.pem", (int)(len - 4), cert_path);
	else
		n = snprintf(out, size, "%s-chain.pem", cert_path);
	return n < 0 || (size_t)n >= size ? cer_err(CER_E_INPUT, "%s: path too long", cert_path) : 0;
}

static int item_add(struct issue_run *run, const char *csr_path, const char *out_path)
{
	struct issue_item *it;

	if (run->n_items == ISSUE_MAX_BATCH)
		return cer_err(CER_E_INPUT, "more than %d requests in one batch", ISSUE_MAX_BATCH);
	it = &run->items[run->n_items];
	memset(it, 0, sizeof(*it));
	if (snprintf(it->csr_path, sizeof(it->csr_path), "%s", csr_path) >= (int)sizeof(it->csr_path) ||
	    snprintf(it->out_path, sizeof(it->out_path), "%s", out_path) >= (int)sizeof(it->out_path))
		return cer_err(CER_E_INPUT, "%s: path too long", csr_path);
	run->n_items++;
	return issue_chain_path(it->out_path, it->chain_path, sizeof(it->chain_path));
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.csr, *.der or *.pem in csr_dir, in name order; DIR/X.csr -> OUT/X.pem. */
static int items_from_dir(struct issue_run *run)
{
	char *names[ISSUE_MAX_BATCH];
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(run->o->csr_dir);
	int r = 0;

	if (d == NULL)
		return cer_err(CER_E_NOTFOUND, "%s: cannot open the CSR folder", run->o->csr_dir);
	while ((de = readdir(d)) != NULL && r == 0) {
		const char *dot = strrchr(de->d_name, '.');
		if (de->d_name[0] == '.' || dot == NULL ||
		    (strcmp(dot, ".csr") != 0 && strcmp(dot, ".der") != 0 && strcmp(dot, ".pem") != 0))
			continue;
		if (n == ISSUE_MAX_BATCH)
			r = cer_err(CER_E_INPUT, "%s: more than %d requests", run->o->csr_dir,
				    ISSUE_MAX_BATCH);
		else if ((names[n] = strdup(de->d_name)) == NULL)
			r = cer_err(CER_E_NOMEM, "out of memory");
		else
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), by_name);
	for (size_t i = 0; i < n && r == 0; i++) {
		char csr[PATH_MAX], out[PATH_MAX];
		int stem = (int)(strrchr(names[i], '.') - names[i]);
		if (snprintf(csr, sizeof(csr), "%s/%s", run->o->csr_dir, names[i]) >= (int)sizeof(csr) ||
		    snprintf(out, sizeof(out), "%s/%.*s.pem", run->o->out_dir, stem, names[i]) >=
			    (int)sizeof(out))
			r = cer_err(CER_E_INPUT, "%s: path too long", names[i]);
		else
			r = item_add(run, csr, out);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	if (r == 0 && n == 0)
		r = cer_err(CER_E_NOTFOUND, "%s: no *.csr, *.der or *.pem requests", run->o->csr_dir);
	return r;
}

static int policies_check(const struct issue_run *run)
{
	const struct issue_opts *o = run->o;
	int r;

	for (int i = 0; i < o->n_policies; i++) {
		ASN1_OBJECT *obj = OBJ_txt2obj(o->policies[i], 1);
		ASN1_OBJECT_free(obj);
		if (obj == NULL)
			return cer_err(CER_E_USAGE, "--policy %s is not a dotted OID", o->policies[i]);
		if (strcmp(o->policies[i], "2.5.29.32.0") == 0 &&
		    run->profile.kind == PROFILE_END_ENTITY)
			return cer_err(CER_E_REFUSED, "--policy anyPolicy is not for end entities");
		for (int j = 0; j < run->profile.n_policies; j++)
			if (strcmp(o->policies[i], run->profile.policies[j]) == 0)
				return cer_err(CER_E_USAGE, "--policy %s is already in the profile",
					       o->policies[i]);
		/* issue 10.3: --policy picks only from the profile's allowed_policies. */
		if ((r = profile_check_extra_policy(&run->profile, o->policies[i])) != 0)
			return r;
		for (int j = 0; j < i; j++)
			if (strcmp(o->policies[i], o->policies[j]) == 0)
				return cer_err(CER_E_USAGE, "--policy %s given twice", o->policies[i]);
	}
	if (run->profile.policies_required && run->profile.n_policies + o->n_policies == 0)
		return cer_err(CER_E_USAGE, "%s: the %s profile needs a certificate policy: give --policy OID",
			       run->profile.path, run->profile.name);
	return 0;
}

/* A fresh serial the CA has never used. */
static int unique_serial(struct issue_run *run, struct hsm *h, ASN1_INTEGER **out)
{
	char hex[41];
	X509 *probe = X509_new();
	int r = CER_E_INTERNAL;

	for (int tries = 0; tries < 8; tries++) {
		ASN1_INTEGER_free(*out);
		*out = NULL;
		uint8_t rnd[CERTBUILD_SERIAL_LEN];

		if ((r = p11_random_mixed(h->session, rnd, sizeof(rnd))) != 0 ||
		    (r = certbuild_serial(rnd, out)) != 0)
			break;
		if (probe == NULL || !X509_set_serialNumber(probe, *out) ||
		    (r = certinfo_serial_hex(probe, hex)) != 0) {
			r = r != 0 ? r : cer_err(CER_E_NOMEM, "out of memory");
			break;
		}
		if (!history_has_serial(run->history, hex)) {
			r = history_add_serial(run->history, hex);
			break;
		}
		r = cer_err(CER_E_REFUSED, "eight fresh serials all collided with the history");
	}
	X509_free(probe);
	return r;
}

/* Check one request completely; on refusal fill it->reason. Needs no login. */
static int item_prepare(struct issue_run *run, struct issue_item *it)
{
	/* Known keys: a hashed lookup below, not csr_check's list scan. */
	struct csr_policy pol = {&run->profile, run->issuer, NULL, 0};
	struct csr_report rep;
	int r;

	if ((r = file_check_new(it->out_path)) != 0 || (r = file_check_new(it->chain_path)) != 0)
		return r;
	if ((r = csr_load(it->csr_path, &it->csr)) != 0) {
		cer_err_prefix("refused: ");
		return r;
	}
	if ((r = csr_check(it->csr, &pol, &rep)) != 0) {
		char names[256];
		csr_report_failed_names(&rep, names, sizeof(names));
		for (int i = 0; i < rep.n; i++)
			if (!rep.checks[i].pass)
				return cer_err(r, "%s: refused: %d check%s failed (%s): %s", it->csr_path,
					       rep.n_failed, rep.n_failed == 1 ? "" : "s", names,
					       rep.checks[i].msg);
		return cer_err(r, "%s: refused: %s", it->csr_path, cer_err_msg(r));
	}
	if ((r = csr_spki_sha256(it->csr, it->spki)) != 0)
		return r;
	if (history_has_spki(run->history, it->spki))
		return cer_err(CER_E_REFUSED, "%s: refused: this key is already certified by the CA",
			       it->csr_path);
	return history_add_spki(run->history, it->spki);
}

/* The profile allows the request's subjectAltName: copy it exactly (csr checked it). */
static int copy_san(struct issue_item *it)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(csr_req(it->csr));
	int r = 0;

	for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
		if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) == NID_subject_alt_name &&
		    !X509_add_ext(it->cert, e, -1))
			r = cer_err_ssl(CER_E_CRYPTO, "%s: cannot copy subjectAltName", it->csr_path);
	}
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return r;
}

static int issue_note_ca(struct issue_run *run, struct issue_item *it)
{
	const unsigned char *der = NULL;
	size_t len = 0;
	char hex[41];
	int r;

	if ((r = certinfo_serial_hex(it->cert, hex)) != 0)
		return r;
	if (X509_NAME_get0_der(X509_get_subject_name(it->cert), &der, &len) <= 0)
		return cer_err_ssl(CER_E_CRYPTO, "cannot encode the subject");
	return history_add_ca(run->history, hex, der, len);
}

static int item_build(struct issue_run *run, struct issue_item *it, struct hsm *h,
		      const struct issue_shadow *sh)
{
	X509_NAME *subject = NULL;
	ASN1_INTEGER *serial = NULL;
	int r;

	if ((r = subject_compose(&run->profile, X509_REQ_get_subject_name(csr_req(it->csr)),
			       it->csr_path, &subject)) != 0)
		goto out;
	if ((r = unique_serial(run, h, &serial)) != 0)
		goto out;
	if ((r = certbuild_new(&run->profile, subject, csr_pubkey(it->csr), run->issuer, serial,
			       (char(*)[PROFILE_OID_MAX])run->o->policies, run->o->n_policies,
			       &it->cert)) != 0)
		goto out;
	if (run->profile.allow_san && (r = copy_san(it)) != 0)
		goto out;
	r = issue_lint(it, run->issuer, sh, &run->profile, (char(*)[PROFILE_OID_MAX])run->o->policies,
		       run->o->n_policies, run->history);
	if (r == 0 && run->profile.kind == PROFILE_CA)
		r = issue_note_ca(run, it); /* the next request of the batch sees this name */
out:
	ASN1_INTEGER_free(serial);
	X509_NAME_free(subject);
	return r;
}

static int record_refusal(struct issue_run *run, struct issue_item *it, const char *why)
{
	json_t *in = NULL, *e = NULL;

	if (file_exists(it->csr_path) && transcript_file_entry(run->tr, it->csr_path, &e) == 0)
		in = json_pack("[o]", e);
	return transcript_append(run->tr, "cert.refused", in, NULL,
				 json_pack("{s:s, s:s, s:s}", "request", it->csr_path, "profile",
					   run->profile.name, "reason", why),
				 NULL);
}

/* Sign the checked, linted certificate in the HSM; verify; write; record. */
static int item_sign(struct issue_run *run, struct issue_item *it, EVP_PKEY *hsm_key,
		     const EVP_MD *md, FILE *out)
{
	unsigned char *tbs_a = NULL, *tbs_b = NULL;
	uint8_t *pem = NULL, *chain = NULL;
	size_t pem_len = 0, chain_len = 0;
	json_t *in = NULL, *outs = NULL, *e1 = NULL, *e2 = NULL, *e3 = NULL, *pols;
	int la, lb, r;

	if ((r = certbuild_sign(it->cert, hsm_key, md, X509_get0_pubkey(run->issuer))) != 0)
		goto out;
	/* What was signed is exactly what was linted. */
	la = i2d_re_X509_tbs(it->cert, &tbs_a);
	lb = i2d_re_X509_tbs(it->linted, &tbs_b);
	if (la <= 0 || la != lb || memcmp(tbs_a, tbs_b, (size_t)la) != 0) {
		r = cer_err(CER_E_VERIFY, "%s: the signed certificate differs from the linted one",
			    it->csr_path);
		goto out;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(it->cert), csr_pubkey(it->csr)) != 1) {
		r = cer_err(CER_E_VERIFY, "%s: the certificate's key is not the request's",
			    it->csr_path);
		goto out;
	}
	if ((r = pem_encode_cert(it->cert, &pem, &pem_len)) != 0 ||
	    (r = pem_encode_cert(it->cert, &chain, &chain_len)) != 0 ||
	    (r = pem_encode_cert(run->issuer, &chain, &chain_len)) != 0)
		goto out;
	if ((r = file_write_public(it->out_path, pem, pem_len)) != 0 ||
	    (r = file_write_public(it->chain_path, chain, chain_len)) != 0)
		goto out;
	if ((r = transcript_file_entry(run->tr, it->csr_path, &e1)) != 0 ||
	    (r = transcript_file_entry(run->tr, run->o->profile, &e2)) != 0 ||
	    (r = transcript_file_entry(run->tr, run->o->issuer, &e3)) != 0)
		goto out;
	in = json_pack("[o,o,o]", e1, e2, e3);
	e1 = e2 = e3 = NULL;
	if ((r = transcript_file_entry(run->tr, it->out_path, &e1)) != 0 ||
	    (r = transcript_file_entry(run->tr, it->chain_path, &e2)) != 0)
		goto out;
	outs = json_pack("[o,o]", e1, e2);
	e1 = e2 = NULL;
	pols = json_array();
	for (int i = 0; pols != NULL && i < run->o->n_policies; i++)
		json_array_append_new(pols, json_string(run->o->policies[i]));
	r = transcript_append(run->tr, "cert.issue", in, outs,
			      json_pack("{s:o, s:o, s:s, s:b}", "certificate",
					certinfo_json(it->cert, run->profile.name), "extra_policies",
					pols, "profile_kind", profile_kind_name(run->profile.kind),
					"beyond_issuer", /* validity.beyond_issuer allowed it */
					ASN1_TIME_compare(X509_get0_notAfter(it->cert),
							  X509_get0_notAfter(run->issuer)) > 0),
			      NULL);
	in = outs = NULL;
	if (r != 0)
		goto out;
	fprintf(out, "Issued %s (chain %s)\n", it->out_path, it->chain_path);
	certinfo_print(out, it->cert);
out:
	json_decref(e1);
	json_decref(e2);
	json_decref(e3);
	json_decref(in);
	json_decref(outs);
	OPENSSL_free(tbs_a);
	OPENSSL_free(tbs_b);
	free(pem);
	free(chain);
	return r;
}

/* Record every refusal; the first one's words become the error. */
static int refuse_items(struct issue_run *run, size_t refused, const char *first)
{
	char msg[768];

	if (refused == 0)
		return 0;
	(void)snprintf(msg, sizeof(msg), "%s", first);
	if (run->n_items > 1)
		return cer_err(CER_E_REFUSED,
			       "%zu of %zu requests refused, so none was signed; first: %s", refused,
			       run->n_items, msg);
	return cer_err(CER_E_REFUSED, "%s; nothing was signed or written", msg);
}

static int issue_check_all(struct issue_run *run, struct hsm *h, const struct issue_shadow *sh,
			   int phase)
{
	char first[768] = "";
	size_t refused = 0;
	int r;

	for (size_t i = 0; i < run->n_items; i++) {
		struct issue_item *it = &run->items[i];
		r = phase == 1 ? item_prepare(run, it) : item_build(run, it, h, sh);
		if (r == 0)
			continue;
		if (r == CER_E_EXISTS || r == CER_E_IO || r == CER_E_NOMEM)
			return r; /* an output problem, not the request's fault */
		(void)snprintf(it->reason, sizeof(it->reason), "%s", cer_err_msg(r));
		if (refused++ == 0)
			(void)snprintf(first, sizeof(first), "%s", it->reason);
		if ((r = record_refusal(run, it, it->reason)) != 0)
			return r;
	}
	return refuse_items(run, refused, first);
}

static int issue_hsm_sign(struct issue_run *run, struct ceremony_ctx *ctx, struct hsm *h,
			  FILE *out)
{
	struct hsmkey *hk = NULL;
	struct p11key k;
	int r;

	if ((r = hsm_login_user(ctx, h)) != 0 || (r = p11key_find_signer(h->session, run->o->key, &k, NULL)) != 0 ||
	    (r = hsmkey_open(h->session, &k, &hk)) != 0)
		goto out;
	if (EVP_PKEY_eq(X509_get0_pubkey(run->issuer), hsmkey_pkey(hk)) != 1) {
		r = cer_err(CER_E_REFUSED, "%s is not the certificate of key \"%s\"; nothing was signed",
			    run->o->issuer, run->o->key);
		goto out;
	}
	for (size_t i = 0; i < run->n_items; i++)
		if ((r = item_sign(run, &run->items[i], hsmkey_pkey(hk), hsmkey_digest(k.type),
				   out)) != 0)
			goto out;
	fprintf(out, "%zu certificate%s issued by %s.\n", run->n_items, run->n_items == 1 ? "" : "s",
		run->o->key);
out:
	hsm_session_end(h);
	hsmkey_free(hk);
	return r;
}

static int issue_setup(struct issue_run *run, struct ceremony_ctx *ctx)
{
	const struct issue_opts *o = run->o;
	const char *tpath;
	int r;

	if ((r = ctx_transcript_path(ctx, "cert sign", &tpath)) != 0)
		return r;
	if ((r = profile_load(o->profile, &run->profile)) != 0)
		return r;
	if (run->profile.kind == PROFILE_ROOT)
		return cer_err(CER_E_USAGE, "%s: a root profile is for \"cert root\", not \"cert sign\"",
			       o->profile);
	if ((r = policies_check(run)) != 0 || (r = pem_load_cert(o->issuer, &run->issuer)) != 0)
		return r;
	if ((r = history_load_beside(tpath, o->history_dir, &run->history)) != 0)
		return r;
	if ((r = ctx_transcript_open(ctx, "cert sign", &run->tr)) != 0)
		return r;
	if (o->csr_dir != NULL)
		return items_from_dir(run);
	return item_add(run, o->csr, o->out);
}

int issue_sign(struct ceremony_ctx *ctx, const struct issue_opts *o, FILE *out)
{
	struct issue_run *run;
	struct issue_shadow sh;
	struct hsm h;
	int r;

	memset(&h, 0, sizeof(h));
	memset(&sh, 0, sizeof(sh));
	run = calloc(1, sizeof(*run));
	if (run == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	run->o = o;
	/* STYLE 9: every request, output path and rule before the first login. */
	if ((r = issue_setup(run, ctx)) != 0 || (r = issue_check_all(run, NULL, NULL, 1)) != 0)
		goto out;
	if ((r = hsm_open(ctx, o->token, &h)) != 0 || (r = issue_shadow_new(run->issuer, &sh)) != 0 ||
	    (r = issue_check_all(run, &h, &sh, 2)) != 0)
		goto out;
	/* The quorum approves the final TBS before the HSM signs (docs/quorum.md). */
	if ((r = issue_quorum(ctx, run->tr, o, &run->profile, run->items, run->n_items, out)) != 0)
		goto out;
	r = issue_hsm_sign(run, ctx, &h, out);
out:
	for (size_t i = 0; i < run->n_items; i++) {
		csr_free(run->items[i].csr);
		X509_free(run->items[i].cert);
		X509_free(run->items[i].linted);
	}
	issue_shadow_free(&sh);
	hsm_close(&h);
	transcript_close(run->tr);
	history_free(run->history);
	X509_free(run->issuer);
	free(run);
	return r;
}

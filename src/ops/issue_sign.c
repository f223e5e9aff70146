/*
 * issue: the signing half. One login; the HSM signs each checked TBS; each
 * signature is verified with the issuer's key; X-chain.pem, then X.pem, are
 * written; then, a group at a time, the group's files are made durable
 * (syncfs), its records appended with one fsync, and only then reported. A
 * kill at any point leaves every recorded certificate on disk; a rerun skips
 * what is recorded and records what was written but not yet recorded.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ceremony/certinfo.h"
#include "ceremony/certparse.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/hsm.h"
#include "ceremony/hsmkey.h"
#include "ceremony/lint.h"
#include "ceremony/p11key.h"
#include "ceremony/pem.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "issue_int.h"

#define ISSUE_GROUP 64 /* certificates made durable, recorded and reported together */

int issue_found_cert(const struct issue_item *it, X509 **out)
{
	const char *path = file_exists(it->out_path) ? it->out_path : it->chain_path;
	uint8_t *data = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int r;

	*out = NULL;
	if ((r = file_read_all(path, 256 * 1024, &data, &len)) != 0)
		return r;
	if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL)
		r = cer_err(CER_E_NOMEM, "out of memory");
	else if ((*out = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL)
		r = cer_err(CER_E_EXISTS, "%s: already exists and holds no certificate; refusing to "
			    "overwrite it", path);
	ERR_clear_error();
	BIO_free(bio);
	free(data);
	return r;
}

/* The HSM signs exactly the linted (and approved) TBS bytes. */
static int sign_only(struct issue_run *run, struct issue_item *it, EVP_PKEY *key, uint8_t **sig,
		     size_t *sig_len)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	int r = 0;

	*sig = NULL;
	*sig_len = 0;
	if (mctx == NULL || EVP_DigestSignInit(mctx, NULL, run->md, NULL, key) <= 0 ||
	    EVP_DigestSign(mctx, NULL, sig_len, it->tbs, it->tbs_len) <= 0 ||
	    (*sig = malloc(*sig_len)) == NULL ||
	    EVP_DigestSign(mctx, *sig, sig_len, it->tbs, it->tbs_len) <= 0) {
		r = cer_err_ssl(CER_E_CRYPTO, "%s: the HSM did not sign the certificate", it->csr_path);
		free(*sig);
		*sig = NULL;
	}
	EVP_MD_CTX_free(mctx);
	return r;
}

/* The HSM's signature over exactly the TBS it was given, checked with the issuer's key
 * (decoded once, when the issuer's certificate was read; certsig: Nettle's ECDSA for a
 * P-256/P-384 issuer, about 1.5 times OpenSSL 3.0's speed on P-384, else OpenSSL). */
static int verify_tbs(const struct issue_run *run, const struct issue_item *it, const uint8_t *sig,
		      size_t sig_len)
{
	return certsig_verify_tbs(run->sigkey, run->md, it->tbs, it->tbs_len, sig, sig_len);
}

/*
 * The signature verifies over the TBS with the issuer's key; the certificate
 * assembled from that TBS, the algorithm and the signature decodes (certparse:
 * OpenSSL's templates, the key as bytes) and re-encodes to the same bytes, which
 * are what is written; and it carries the request's key.
 */
static int sign_check(struct issue_run *run, struct issue_item *it, const uint8_t *sig,
		      size_t sig_len, X509 **out)
{
	uint8_t *der = NULL, spki[SHA256_LEN];
	size_t der_len = 0;
	X509 *x = NULL;
	int r;

	*out = NULL;
	if (!verify_tbs(run, it, sig, sig_len)) {
		r = cer_err_ssl(CER_E_VERIFY,
				"%s: the certificate's signature does not verify with the issuer's "
				"public key; it was not written",
				it->csr_path);
		goto out;
	}
	if ((r = issue_assemble(it->tbs, it->tbs_len, run->alg, (size_t)run->alg_len, sig, sig_len,
				&der, &der_len)) != 0)
		goto out;
	if ((r = certparse_der(der, der_len, &x)) != 0) {
		cer_err_prefix("%s: the signed certificate: ", it->csr_path);
		goto out;
	}
	if ((r = csr_cert_spki_sha256(x, spki)) != 0 || memcmp(spki, it->spki, SHA256_LEN) != 0) {
		r = cer_err(CER_E_VERIFY, "%s: the certificate's key is not the request's",
			    it->csr_path);
		goto out;
	}
	*out = x;
	x = NULL;
out:
	X509_free(x);
	free(der);
	return r;
}

/* X-chain.pem before X.pem, neither synced yet: the group is made durable at once. */
static int write_item(struct issue_run *run, struct issue_item *it, X509 *x,
		      uint8_t out_md[SHA256_LEN], uint8_t chain_md[SHA256_LEN])
{
	uint8_t *pem = NULL, *chain = NULL;
	size_t pem_len = 0, chain_len = 0;
	int r;

	if ((r = pem_encode_cert(x, &pem, &pem_len)) != 0)
		goto out;
	chain_len = pem_len + run->issuer_pem_len; /* the certificate, then the issuer's */
	if ((chain = malloc(chain_len)) == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(chain, pem, pem_len);
	memcpy(chain + pem_len, run->issuer_pem, run->issuer_pem_len);
	/* What the record names is what is on disk (an interrupted call's files included). */
	if (file_exists(it->chain_path))
		r = file_sha256(it->chain_path, chain_md);
	else if ((r = file_write_public_unsynced(it->chain_path, chain, chain_len)) == 0 &&
		 EVP_Digest(chain, chain_len, chain_md, NULL, EVP_sha256(), NULL) != 1)
		r = cer_err_ssl(CER_E_CRYPTO, "cannot hash");
	if (r != 0)
		goto out;
	if (file_exists(it->out_path))
		r = file_sha256(it->out_path, out_md);
	else if ((r = file_write_public_unsynced(it->out_path, pem, pem_len)) == 0 &&
		 EVP_Digest(pem, pem_len, out_md, NULL, EVP_sha256(), NULL) != 1)
		r = cer_err_ssl(CER_E_CRYPTO, "cannot hash");
out:
	free(pem);
	free(chain);
	return r;
}

static int record_item(struct issue_run *run, struct issue_item *it, X509 *x,
		       const uint8_t out_md[SHA256_LEN], const uint8_t chain_md[SHA256_LEN])
{
	json_t *in = NULL, *outs = NULL, *e1 = NULL, *e2 = NULL, *pols, *details;
	int r;

	if ((r = transcript_data_entry(run->tr, it->csr_path, it->csr_sha256, &e1)) != 0)
		goto out;
	in = json_pack("[o,O,O]", e1, run->profile_entry, run->issuer_entry);
	e1 = NULL;
	if ((r = transcript_data_entry(run->tr, it->out_path, out_md, &e1)) != 0 ||
	    (r = transcript_data_entry(run->tr, it->chain_path, chain_md, &e2)) != 0)
		goto out;
	outs = json_pack("[o,o]", e1, e2);
	e1 = e2 = NULL;
	pols = json_array();
	for (int i = 0; pols != NULL && i < run->o->n_policies; i++)
		json_array_append_new(pols, json_string(run->o->policies[i]));
	details = json_pack("{s:o, s:o, s:s, s:b, s:b}", "certificate",
			    certinfo_json(x, run->profile.name), "extra_policies", pols,
			    "profile_kind", profile_kind_name(run->profile.kind),
			    "beyond_issuer", /* validity.beyond_issuer allowed it */
			    ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(run->issuer)) > 0,
			    "request_pinned", it->pin != NULL);
	if (details != NULL && it->state == ITEM_UNRECORDED)
		json_object_set_new(details, "recorded_after_interruption", json_true());
	r = transcript_append(run->tr, "cert.issue", in, outs, details, NULL);
	in = outs = NULL;
out:
	json_decref(e1);
	json_decref(e2);
	json_decref(in);
	json_decref(outs);
	return r;
}

#define ISSUE_WORKERS 2 /* each signs an item (the HSM one at a time), then checks and writes it */

struct group {
	size_t first, n; /* items [first, first + n) were handled (written, or failed) */
	X509 *certs[ISSUE_GROUP];
	uint8_t out_md[ISSUE_GROUP][SHA256_LEN], chain_md[ISSUE_GROUP][SHA256_LEN];
	struct issue_run *run;
	EVP_PKEY *key;
	pthread_mutex_t lock, hsm; /* hsm: one signature at a time on the session */
	size_t next;               /* the next item a worker takes */
	int failed, fail_r;
	size_t fail_k; /* the first failed item */
	char fail_msg[CER_ERR_DETAIL_SIZE];
	int stop; /* the previous group's commit failed: take no further item */
	pthread_t th[ISSUE_WORKERS];
	int started; /* workers running */
};

static int check_one(struct group *g, size_t k, const uint8_t *sig, size_t sig_len)
{
	struct issue_run *run = g->run;
	struct issue_item *it = &run->items[g->first + k];
	int r;

	if (it->state == ITEM_DONE_BEFORE)
		return 0;
	if (it->state == ITEM_NEW)
		r = sign_check(run, it, sig, sig_len, &g->certs[k]);
	else
		r = (g->certs[k] = X509_dup(it->found)) != NULL ? 0 : cer_err(CER_E_NOMEM, "out of memory");
	if (r == 0 && (r = write_item(run, it, g->certs[k], g->out_md[k], g->chain_md[k])) != 0) {
		if (it->state == ITEM_NEW)
			cer_err_prefix("the HSM signed %s's certificate (serial %s) but it could not be "
				       "written, so it was not issued: ",
				       it->csr_path, it->serial_hex);
		X509_free(g->certs[k]);
		g->certs[k] = NULL;
	}
	return r;
}

/* One item: the HSM signs it (alone on the session), then this thread verifies and writes it. */
static int work_one(struct group *g, size_t k)
{
	struct issue_item *it = &g->run->items[g->first + k];
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	int r = 0;

	if (it->state == ITEM_NEW) {
		pthread_mutex_lock(&g->hsm);
		r = sign_only(g->run, it, g->key, &sig, &sig_len);
		pthread_mutex_unlock(&g->hsm);
	}
	if (r == 0)
		r = check_one(g, k, sig, sig_len);
	free(sig);
	return r;
}

/*
 * A worker takes the next item until the group is done or an item failed; while
 * one verifies and writes, the other has the HSM sign, so both cores work and
 * the HSM waits little. What was written before a failure is committed.
 */
static void *group_worker(void *arg)
{
	struct group *g = arg;
	size_t n = g->run->n_items - g->first < ISSUE_GROUP ? g->run->n_items - g->first : ISSUE_GROUP;
	int r;

	for (;;) {
		size_t k;
		pthread_mutex_lock(&g->lock);
		k = g->next;
		if (g->failed || g->stop || k >= n) {
			pthread_mutex_unlock(&g->lock);
			break;
		}
		g->next++;
		pthread_mutex_unlock(&g->lock);
		cer_err_clear();
		if ((r = work_one(g, k)) == 0)
			continue;
		pthread_mutex_lock(&g->lock);
		if (!g->failed || k < g->fail_k) {
			g->fail_k = k;
			g->fail_r = r;
			/* fail_msg has CER_ERR_DETAIL_SIZE bytes: the detail fits whole */
			text_format_cut(g->fail_msg, sizeof(g->fail_msg), "%s", cer_err_msg(r));
		}
		g->failed = 1;
		pthread_mutex_unlock(&g->lock);
	}
	ERR_clear_error();
	return NULL;
}

/* Start signing, verifying and writing up to ISSUE_GROUP items on ISSUE_WORKERS
 * threads; group_finish waits for them. */
static void group_start(struct issue_run *run, struct group *g, EVP_PKEY *key)
{
	g->run = run;
	g->key = key;
	g->started = 0;
	for (int i = 0; i < ISSUE_WORKERS; i++) {
		if (pthread_create(&g->th[i], NULL, group_worker, g) != 0)
			break;
		g->started++;
	}
}

/* The group's workers done (none started: this thread does the work); g->n counts
 * the items taken, each written (g->certs[k]) or not; the first failure's code
 * (its words in g->fail_msg), else 0. */
static int group_finish(struct group *g)
{
	if (g->started == 0)
		group_worker(g);
	for (int i = 0; i < g->started; i++)
		pthread_join(g->th[i], NULL);
	g->started = 0;
	g->n = g->next;
	return g->failed ? g->fail_r : 0;
}

static void group_stop(struct group *g)
{
	pthread_mutex_lock(&g->lock);
	g->stop = 1;
	pthread_mutex_unlock(&g->lock);
}

/* The group's files durable, then its records (one fsync), then the report. */
static int group_commit(struct issue_run *run, struct group *g, FILE *out)
{
	size_t written = 0;
	int r;

	for (size_t k = 0; k < g->n; k++)
		written += g->certs[k] != NULL;
	if (written == 0)
		return 0;
	if ((r = file_sync_fs(run->items[g->first].out_path)) != 0)
		return r;
	for (size_t k = 0; k < g->n; k++)
		if (g->certs[k] != NULL &&
		    (r = record_item(run, &run->items[g->first + k], g->certs[k], g->out_md[k],
				     g->chain_md[k])) != 0)
			return r;
	if ((r = transcript_flush(run->tr)) != 0)
		return r;
	for (size_t k = 0; k < g->n; k++) {
		struct issue_item *it = &run->items[g->first + k];
		if (g->certs[k] == NULL)
			continue;
		if (it->state == ITEM_UNRECORDED) {
			fprintf(out, "Recorded %s (chain %s), written by a call that stopped before "
				     "recording it\n", it->out_path, it->chain_path);
			run->n_unrecorded++;
		} else {
			fprintf(out, "Issued %s (chain %s)\n", it->out_path, it->chain_path);
			run->n_issued++;
		}
		it->state = ITEM_ISSUED;
		certinfo_print(out, g->certs[k]);
	}
	return 0;
}

static void group_free(struct group *g)
{
	for (size_t k = 0; k < ISSUE_GROUP; k++)
		X509_free(g->certs[k]);
	pthread_mutex_destroy(&g->lock);
	pthread_mutex_destroy(&g->hsm);
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	pthread_mutex_init(&g->hsm, NULL);
}

/* A stop mid-batch says what was issued and that a rerun finishes the batch. */
static int batch_stopped(struct issue_run *run, int r, int committed)
{
	char why[CER_ERR_DETAIL_SIZE];

	/* why has CER_ERR_DETAIL_SIZE bytes: the detail fits whole */
	text_format_cut(why, sizeof(why), "%s", cer_err_msg(r));
	if (run->n_issued + run->n_unrecorded == 0 && committed)
		return cer_err(r, "%s; no certificate was issued", why);
	return cer_err(r,
		       "%s; %zu of %zu certificate%s issued and recorded before this (each "
		       "\"Issued\" line above)%s; run the same command again to issue the rest: "
		       "what is issued is skipped",
		       why, run->n_issued + run->n_unrecorded, run->n_items,
		       run->n_items == 1 ? " was" : "s were",
		       committed ? "" : ", and the last group's files may be on disk unrecorded: "
					"the rerun records them");
}

/*
 * Group k + 1 is signed while group k is committed (its syncfs and fsync wait
 * on the disk, not on the cores). A group's records are still appended only
 * once all its files are written and durable, and reported only after their
 * fsync. A failed commit stops the group being signed; what that group wrote is
 * on disk unrecorded, and the rerun records it.
 */
static int sign_groups(struct issue_run *run, EVP_PKEY *key, FILE *out)
{
	struct group *g = calloc(2, sizeof(*g)), *cur, *prev = NULL;
	size_t first = 0;
	int r = 0, rc = 0;

	if (g == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (int i = 0; i < 2; i++) {
		pthread_mutex_init(&g[i].lock, NULL);
		pthread_mutex_init(&g[i].hsm, NULL);
	}
	transcript_hold(run->tr);
	for (int i = 0; first < run->n_items; i ^= 1) {
		cur = &g[i];
		group_free(cur);
		cur->first = first;
		group_start(run, cur, key);
		if (prev != NULL && (rc = group_commit(run, prev, out)) != 0)
			group_stop(cur);
		r = group_finish(cur);
		prev = NULL;
		if (rc != 0) { /* the commit's words are this thread's last error */
			r = batch_stopped(run, rc, 0);
			goto out;
		}
		if (r != 0) { /* what was written before the failure is committed */
			if ((rc = group_commit(run, cur, out)) != 0)
				r = batch_stopped(run, rc, 0);
			else
				r = batch_stopped(run, cer_err(r, "%s", cur->fail_msg), 1);
			goto out;
		}
		prev = cur;
		first += cur->n;
	}
	if (prev != NULL && (rc = group_commit(run, prev, out)) != 0)
		r = batch_stopped(run, rc, 0);
out:
	for (int i = 0; i < 2; i++) {
		group_free(&g[i]);
		pthread_mutex_destroy(&g[i].lock);
		pthread_mutex_destroy(&g[i].hsm);
	}
	free(g);
	return r;
}

int issue_sign_all(struct issue_run *run, struct ceremony_ctx *ctx, struct hsm *h, FILE *out)
{
	struct hsmkey *hk = NULL;
	struct p11key k;
	size_t to_sign = 0;
	int r;

	for (size_t i = 0; i < run->n_items; i++) {
		to_sign += run->items[i].state == ITEM_NEW;
		run->n_before += run->items[i].state == ITEM_DONE_BEFORE;
	}
	if (to_sign > 0) {
		if ((r = hsm_login_user(ctx, h)) != 0 ||
		    (r = p11key_find_signer(h->session, run->o->key, &k, NULL)) != 0 ||
		    (r = hsmkey_open(h->session, &k, &hk)) != 0)
			goto out;
		/* A token fault is the token's, never the issuer file's (issue 9). */
		if ((r = hsmkey_cert_check(hk, run->issuer, run->o->issuer, "nothing was signed")) != 0)
			goto out;
		if (hsmkey_digest(k.type) != run->md) {
			r = cer_err(CER_E_REFUSED,
				    "%s is not the certificate of key \"%s\"; nothing was signed",
				    run->o->issuer, run->o->key);
			goto out;
		}
	}
	if ((r = pem_encode_cert(run->issuer, &run->issuer_pem, &run->issuer_pem_len)) != 0 ||
	    (r = sign_groups(run, hk != NULL ? hsmkey_pkey(hk) : NULL, out)) != 0)
		goto out;
	if (run->n_before > 0)
		fprintf(out, "%zu request%s already issued by an earlier call, skipped.\n",
			run->n_before, run->n_before == 1 ? " was" : "s were");
	fprintf(out, "%zu certificate%s issued by %s.\n", run->n_issued, run->n_issued == 1 ? "" : "s",
		run->o->key);
out:
	hsm_session_end(h);
	hsmkey_free(hk); /* after our session: libp11 closes all sessions of the slot */
	return r;
}

/* rootops: the root certificate, the transcript seal and its verification. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony/archive.h"
#include "ceremony/certbuild.h"
#include "ceremony/certinfo.h"
#include "ceremony/cms.h"
#include "ceremony/countersig.h"
#include "ceremony/docsign.h"
#include "ceremony/encode.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/hsm.h"
#include "ceremony/hsmkey.h"
#include "ceremony/p11key.h"
#include "ceremony/media.h"
#include "ceremony/pem.h"
#include "ceremony/quorum.h"
#include "ceremony/profile.h"
#include "ceremony/readaloud.h"
#include "ceremony/replay.h"
#include "ceremony/rootops.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"

int rootops_cert_root(struct ceremony_ctx *ctx, const char *token, const char *key,
		      const char *profile, const char *subject, const char *out_path, FILE *out)
{
	struct hsm h;
	struct hsmkey *hk = NULL;
	struct transcript *tr = NULL;
	struct profile prof;
	struct p11key k;
	X509_NAME *name = NULL;
	X509 *x = NULL;
	ASN1_INTEGER *serial = NULL;
	EVP_PKEY *pub = NULL;
	uint8_t *spki = NULL, *pem = NULL, fp[SHA256_LEN], spki_md[SHA256_LEN],
		rnd[CERTBUILD_SERIAL_LEN];
	size_t spki_len = 0, pem_len = 0;
	json_t *in = NULL, *outs = NULL, *entry = NULL;
	const unsigned char *p;
	const char *tpath;
	int r;

	memset(&h, 0, sizeof(h));
	/* STYLE 9: every input and the output path before the first login. */
	if ((r = ctx_transcript_path(ctx, "cert root", &tpath)) != 0)
		return r;
	if ((r = profile_load(profile, &prof)) != 0)
		return r;
	if (prof.kind != PROFILE_ROOT)
		return cer_err(CER_E_REFUSED, "%s: profile \"%s\" is a %s profile, not a root profile",
			       profile, prof.name, profile_kind_name(prof.kind));
	if ((r = certbuild_name_parse(subject, 1, &name)) != 0)
		return r;
	if ((r = file_check_new(out_path)) != 0)
		goto out;
	if ((r = ctx_transcript_open(ctx, "cert root", &tr)) != 0)
		goto out;
	if ((r = hsm_open(ctx, token, &h)) != 0 || (r = hsm_login_user(ctx, &h)) != 0)
		goto out;
	if ((r = p11key_find_signer(h.session, key, &k, NULL)) != 0)
		goto out;
	if ((r = profile_check_key_type(&prof, k.type)) != 0)
		goto out;
	if ((r = p11key_spki(h.session, &k, &spki, &spki_len)) != 0)
		goto out;
	p = spki;
	pub = d2i_PUBKEY(NULL, &p, (long)spki_len);
	if (pub == NULL) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot decode the key's public key");
		goto out;
	}
	if ((r = p11_random_mixed(h.session, rnd, sizeof(rnd))) != 0 ||
	    (r = certbuild_serial(rnd, &serial)) != 0)
		goto out;
	if ((r = certbuild_new(&prof, name, pub, NULL, serial, NULL, 0, &x)) != 0)
		goto out;
	if ((r = hsmkey_open(h.session, &k, &hk)) != 0)
		goto out;
	/* Signed in the HSM, checked with the token's public key object before writing. */
	if ((r = certbuild_sign(x, hsmkey_pkey(hk), hsmkey_digest(k.type), pub)) != 0)
		goto out;
	if ((r = certbuild_fingerprint(x, fp)) != 0 || (r = certinfo_spki_sha256(pub, spki_md)) != 0)
		goto out;
	if ((r = pem_encode_cert(x, &pem, &pem_len)) != 0)
		goto out;
	if ((r = file_write_public(out_path, pem, pem_len)) != 0)
		goto out;
	if ((r = transcript_file_entry(tr, profile, &entry)) != 0)
		goto out;
	in = json_pack("[o]", entry);
	if ((r = transcript_file_entry(tr, out_path, &entry)) != 0)
		goto out;
	outs = json_pack("[o]", entry);
	r = transcript_append(tr, "cert.root", in, outs,
			      json_pack("{s:s, s:s, s:o}", "key", key, "token_serial", h.token.serial,
					"certificate", certinfo_json(x, prof.name)),
			      NULL);
	in = outs = NULL;
	if (r != 0)
		goto out;
	fprintf(out, "Root certificate written to %s\n", out_path);
	readaloud_print(out, "sha256", fp, 32);
	readaloud_print(out, "SPKI sha256", spki_md, 32);
out:
	json_decref(in);
	json_decref(outs);
	free(pem);
	free(spki);
	EVP_PKEY_free(pub);
	ASN1_INTEGER_free(serial);
	X509_free(x);
	X509_NAME_free(name);
	hsm_session_end(&h);
	hsmkey_free(hk);
	hsm_close(&h);
	transcript_close(tr);
	return r;
}

struct find_root {
	char path[PATH_MAX];
	int outside;
};

static int find_root_cb(void *arg, long line, json_t *rec)
{
	struct find_root *fr = arg;
	const char *action = json_string_value(json_object_get(rec, "action"));
	json_t *o = json_array_get(json_object_get(rec, "outputs"), 0);
	const char *p = json_string_value(json_object_get(o, "path"));

	(void)line;
	if (action != NULL && strcmp(action, "cert.signer") == 0 && p != NULL) {
		fr->outside = json_is_true(json_object_get(o, "outside_archive"));
		return text_copy(fr->path, sizeof(fr->path), "the recorded certificate path", p);
	}
	return 0;
}

int rootops_transcript_seal(struct ceremony_ctx *ctx, const char *token, const char *key,
			    const char *cert_path, const char *transcript, FILE *out)
{
	struct hsm h;
	struct hsmkey *hk = NULL;
	struct p11key k;
	struct find_root fr;
	char full[PATH_MAX], sig[PATH_MAX];
	X509 *cert = NULL;
	uint8_t md[SHA256_LEN];
	int r;

	memset(&h, 0, sizeof(h));
	memset(&fr, 0, sizeof(fr));
	if (snprintf(sig, sizeof(sig), "%s.sig", transcript) >= (int)sizeof(sig))
		return cer_err(CER_E_INPUT, "transcript path too long");
	if ((r = file_check_new(sig)) != 0)
		return r;
	if (cert_path == NULL) {
		if ((r = transcript_each(transcript, find_root_cb, &fr)) != 0)
			return r;
		if (fr.path[0] == '\0')
			return cer_err(CER_E_USAGE, "%s records no ceremony-signing certificate "
						    "(cert.signer); give --cert FILE",
				       transcript);
		if ((r = archive_resolve(NULL, transcript, 0, fr.path, fr.outside, full)) != 0) {
			if (fr.outside)
				cer_err_prefix("give --cert FILE: ");
			return r;
		}
		cert_path = full;
	}
	if ((r = pem_load_cert(cert_path, &cert)) != 0)
		return r;
	if ((r = hsm_open(ctx, token, &h)) != 0 || (r = hsm_login_user(ctx, &h)) != 0 ||
	    (r = p11key_find_signer(h.session, key, &k, NULL)) != 0 ||
	    (r = hsmkey_open(h.session, &k, &hk)) != 0)
		goto out;
	if ((r = hsmkey_cert_check(hk, cert, cert_path, "nothing sealed")) != 0)
		goto out;
	if ((r = transcript_seal(transcript, hsmkey_pkey(hk), cert)) != 0)
		goto out;
	if ((r = file_sha256(transcript, md)) != 0)
		goto out;
	fprintf(out, "Sealed %s with key \"%s\": %s\n", transcript, key, sig);
	readaloud_print(out, "sha256", md, 32);
out:
	hsm_session_end(&h);
	hsmkey_free(hk);
	hsm_close(&h);
	X509_free(cert);
	return r;
}

/* The start manifest the transcript's media.manifest record holds for this medium. */
struct media_start {
	const char *transcript;
	const char *medium_real;
	json_t *files; /* the last matching record's, referenced */
	char recorded_media[PATH_MAX];
};

static int media_start_cb(void *arg, long line, json_t *rec)
{
	struct media_start *ms = arg;
	const char *action = json_string_value(json_object_get(rec, "action"));
	json_t *d = json_object_get(rec, "details");
	const char *media = json_string_value(json_object_get(d, "media"));
	const char *slash = strrchr(ms->medium_real, '/');
	char full[PATH_MAX], real[PATH_MAX];

	if (action == NULL || strcmp(action, "media.manifest") != 0 || media == NULL)
		return 0;
	/* Recorded relative to the archive, or (a medium outside it) by its name only. */
	if (json_is_true(json_object_get(d, "media_outside_archive"))) {
		if (slash == NULL || strcmp(slash + 1, media) != 0)
			return 0;
	} else if (archive_resolve(NULL, ms->transcript, line, media, 0, full) != 0) {
		cer_err_clear();
		return 0;
	} else if (realpath(full, real) == NULL || strcmp(real, ms->medium_real) != 0)
		return 0;
	json_decref(ms->files);
	ms->files = json_incref(json_object_get(d, "files"));
	return text_copy(ms->recorded_media, sizeof(ms->recorded_media), "the recorded media path",
			 media);
}

/*
 * MANIFEST.sha256 of what this ceremony wrote: the files that differ from the
 * transcript's media.manifest record, as the tool itself builds the text now.
 */
static int media_manifest_build(const char *transcript, const char *medium, uint8_t **text,
				size_t *len, size_t *n_files)
{
	struct media_manifest *before = NULL, *now = NULL, *written = NULL;
	struct media_start ms;
	char real[PATH_MAX];
	int r;

	memset(&ms, 0, sizeof(ms));
	if (realpath(medium, real) == NULL)
		return cer_err(CER_E_NOTFOUND, "%s: the medium is not there: %s", medium,
			       strerror(errno));
	ms.medium_real = real;
	ms.transcript = transcript;
	if ((r = transcript_each(transcript, media_start_cb, &ms)) != 0)
		return r;
	if (ms.files == NULL)
		return cer_err(CER_E_REFUSED, "%s records no media.manifest of %s at the start of the "
					      "ceremony; nothing was signed",
			       transcript, medium);
	if ((r = media_manifest_from_json(ms.files, &before)) != 0 ||
	    (r = media_scan(medium, &now)) != 0 || (r = media_written(before, now, &written)) != 0 ||
	    (r = media_manifest_text(written, text, len)) != 0)
		goto out;
	*n_files = written->n;
out:
	json_decref(ms.files);
	media_manifest_free(before);
	media_manifest_free(now);
	media_manifest_free(written);
	return r;
}

int rootops_media_sign(struct ceremony_ctx *ctx, const char *token, const char *key,
		       const char *cert_path, const char *medium, FILE *out)
{
	struct transcript *tr = NULL;
	X509 *cert = NULL;
	uint8_t *text = NULL, *there = NULL, *der = NULL, md[SHA256_LEN];
	size_t len = 0, there_len = 0, der_len = 0, n_files = 0;
	char path[PATH_MAX], sig[PATH_MAX];
	const char *tpath;
	json_t *outs = NULL, *e1 = NULL, *e2 = NULL;
	int r, written_now = 0;

	if (snprintf(path, sizeof(path), "%s/%s", medium, MEDIA_MANIFEST_NAME) >= (int)sizeof(path) ||
	    snprintf(sig, sizeof(sig), "%s.sig", path) >= (int)sizeof(sig))
		return cer_err(CER_E_INPUT, "%s: path too long", medium);
	if ((r = ctx_transcript_path(ctx, "media sign", &tpath)) != 0 ||
	    (r = file_check_new(sig)) != 0 || (r = pem_load_cert(cert_path, &cert)) != 0 ||
	    (r = media_manifest_build(tpath, medium, &text, &len, &n_files)) != 0)
		goto out;
	/* Never sign bytes the tool did not produce: a manifest already on the medium must be
	 * exactly the one built now (a rerun after an interruption), else it is refused. */
	if (file_exists(path)) {
		if ((r = file_read_all(path, len + 1, &there, &there_len)) != 0 || there_len != len ||
		    memcmp(there, text, len) != 0) {
			r = cer_err(CER_E_REFUSED, "%s is not the manifest of what this ceremony "
						   "wrote (it was not written by this tool, or the "
						   "medium changed); it was not signed and nothing "
						   "was written",
				    path);
			goto out;
		}
	}
	if ((r = ctx_transcript_open(ctx, "media sign", &tr)) != 0)
		goto out;
	if (!file_exists(path)) {
		if ((r = file_write_public(path, text, len)) != 0)
			goto out;
		written_now = 1;
	}
	if ((r = docsign_detached(ctx, token, key, cert, cert_path, text, len, &der, &der_len)) != 0 ||
	    (r = file_write_public(sig, der, der_len)) != 0)
		goto out;
	if ((r = transcript_file_entry(tr, path, &e1)) != 0 ||
	    (r = transcript_file_entry(tr, sig, &e2)) != 0)
		goto out;
	outs = json_pack("[o,o]", e1, e2);
	e1 = e2 = NULL;
	r = transcript_append(tr, "media.sign", NULL, outs,
			      json_pack("{s:s, s:I}", "key", key, "files", (json_int_t)n_files), NULL);
	outs = NULL;
	if (r != 0)
		goto out;
	fprintf(out, "Medium: %s lists the %zu files this ceremony wrote; signed with key \"%s\": "
		     "%s\n",
		path, n_files, key, sig);
	if (EVP_Digest(text, len, md, NULL, EVP_sha256(), NULL))
		readaloud_print(out, "sha256", md, 32);
out:
	if (r != 0 && written_now && !file_exists(sig) && unlink(path) != 0)
		cer_err_prefix("%s is left unsigned: ", path);
	json_decref(e1);
	json_decref(e2);
	json_decref(outs);
	OPENSSL_free(der);
	free(there);
	free(text);
	X509_free(cert);
	transcript_close(tr);
	return r;
}

int rootops_transcript_verify(const char *transcript, const char *root_path, unsigned flags,
			      const char *test_cost_allowed, const char *registry, FILE *out)
{
	struct transcript_report rep;
	struct replay_report rr;
	X509 *root = NULL;
	int r;

	if (root_path != NULL && (r = pem_load_cert(root_path, &root)) != 0)
		return r;
	fprintf(out, "Transcript %s\n", transcript);
	r = transcript_verify(transcript, root, flags, out, &rep);
	if (r == 0)
		r = replay_transcript(transcript, root, out, &rr);
	if (r == 0)
		r = countersig_verify_transcript(transcript, root, registry, out);
	if (r == 0)
		r = quorum_verify_transcript(transcript, out); /* docs/quorum.md */
	if (r == 0)
		r = transcript_test_cost_check(transcript, &rep, test_cost_allowed, out);
	if (r == 0) {
		fprintf(out, "Replayed: %ld certificates, %ld CRLs; %ld records' files not present\n",
			rr.certificates, rr.crls, rr.not_present);
		fprintf(out, "Chain intact: %ld records; %ld outputs match, %ld not present",
			rep.records, rep.outputs_checked, rep.outputs_missing);
		if (rep.outputs_outside > 0)
			fprintf(out, ", %ld outside the archive (not followed)", rep.outputs_outside);
		fprintf(out, "\n");
		if (rep.sealed && rep.anchored)
			fprintf(out, "Seal verified: signed by %s, whose certificate chains to the "
				     "given root\n",
				rep.signer);
		else if (rep.sealed)
			fprintf(out, "Seal UNANCHORED: signed by %s, a key the transcript itself "
				     "records; accepted only because of --allow-unanchored\n",
				rep.signer);
		else
			fprintf(out, "NOT SEALED (accepted because of --allow-unsealed)\n");
		readaloud_print(out, "head sha256", rep.head, 32);
		fprintf(out, "Verdict: OK%s\n", rep.sealed && !rep.anchored ? " (unanchored)" : "");
	}
	X509_free(root);
	return r;
}

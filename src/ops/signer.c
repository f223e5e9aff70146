/* signer: the ceremony-signing key and its certificate, made at root key generation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ceremony/certbuild.h"
#include "ceremony/certinfo.h"
#include "ceremony/cms.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/history.h"
#include "ceremony/hsm.h"
#include "ceremony/hsmkey.h"
#include "ceremony/keyrecord.h"
#include "ceremony/lint.h"
#include "ceremony/p11key.h"
#include "ceremony/pem.h"
#include "ceremony/profile.h"
#include "ceremony/readaloud.h"
#include "ceremony/rerun.h"
#include "ceremony/signer.h"
#include "ceremony/sizes.h"
#include "ceremony/transcript.h"

#define SIGNER_CN_SUFFIX " Ceremony Signing"

/* The root's subject with its CN replaced by "<root CN> Ceremony Signing". */
static int signer_subject(X509 *root, const char *given, X509_NAME **out)
{
	X509_NAME *name;
	char cn[256];
	int pos, n;

	*out = NULL;
	if (given != NULL)
		return certbuild_name_parse(given, 1, out);
	name = X509_NAME_dup(X509_get_subject_name(root));
	if (name == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	n = X509_NAME_get_text_by_NID(name, NID_commonName, cn, sizeof(cn));
	if (n <= 0 || (size_t)n + strlen(SIGNER_CN_SUFFIX) > 64) {
		X509_NAME_free(name);
		return cer_err(CER_E_INPUT, "the root's CN cannot be extended to name the signing "
					    "key (64 characters at most); give --subject");
	}
	memcpy(cn + n, SIGNER_CN_SUFFIX, sizeof(SIGNER_CN_SUFFIX));
	while ((pos = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) >= 0)
		X509_NAME_ENTRY_free(X509_NAME_delete_entry(name, pos));
	if (!X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8, (unsigned char *)cn,
					-1, -1, 0)) {
		X509_NAME_free(name);
		return cer_err_ssl(CER_E_CRYPTO, "cannot build the signing key's name");
	}
	*out = name;
	return 0;
}

/* A profile that can only make a seal signer: end-entity, digitalSignature, documentSigning. */
static int signer_profile_check(const char *path, const struct profile *p)
{
	int doc = 0;

	for (int i = 0; i < p->n_eku; i++)
		doc |= strcmp(p->eku[i], "1.3.6.1.5.5.7.3.36") == 0;
	if (p->kind != PROFILE_END_ENTITY || p->ca || p->key_usage != KU_DIGITAL_SIGNATURE || !doc)
		return cer_err(CER_E_REFUSED, "%s: profile \"%s\" is not a ceremony-signing profile "
					      "(end-entity, CA:FALSE, keyUsage digitalSignature only, "
					      "extendedKeyUsage id-kp-documentSigning)",
			       path, p->name);
	return 0;
}

/* RFC 5280 4.1.2.5 and the lint: the signer never outlives its issuer. */
static int clamp_not_after(X509 *x, X509 *issuer)
{
	if (ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(issuer)) > 0 &&
	    !X509_set1_notAfter(x, X509_get0_notAfter(issuer)))
		return cer_err_ssl(CER_E_CRYPTO, "cannot set notAfter");
	return 0;
}

struct signer_made {
	struct hsmkey *root_hk; /* signs over our session */
	X509 *cert;
	struct p11key_public pub;
	struct p11key key;
	struct p11key_evidence ev;
	int key_made;
};

/* Generate the key, build and sign its certificate with the root; nothing written yet. */
static int signer_build(struct hsm *h, const struct p11key *root_key, X509 *root,
			const struct profile *prof, const char *label, unsigned waivers,
			X509_NAME *name, struct signer_made *m)
{
	ASN1_INTEGER *serial = NULL;
	uint8_t rnd[CERTBUILD_SERIAL_LEN];
	struct lint_input in;
	int r;

	/* The root template, never extractable (P11KEY_ROOT_NONE): it has no backup. */
	if ((r = p11key_generate(h->session, label, root_key->type, P11KEY_ROOT_NONE, waivers,
				 &m->key, &m->ev)) != 0)
		return r;
	m->key_made = 1;
	if ((r = p11key_public_read(h->session, &m->key, &m->pub)) != 0)
		goto out;
	if ((r = p11_random_mixed(h->session, rnd, sizeof(rnd))) != 0 ||
	    (r = certbuild_serial(rnd, &serial)) != 0 ||
	    (r = certbuild_new(prof, name, m->pub.pkey, root, serial, NULL, 0, &m->cert)) != 0 ||
	    (r = clamp_not_after(m->cert, root)) != 0)
		goto out;
	if ((r = hsmkey_open(h->session, root_key, &m->root_hk)) != 0)
		goto out;
	if ((r = certbuild_sign(m->cert, hsmkey_pkey(m->root_hk), hsmkey_digest(root_key->type),
				X509_get0_pubkey(root))) != 0)
		goto out;
	memset(&in, 0, sizeof(in));
	in.cert = m->cert;
	in.issuer = root;
	in.profile = prof;
	in.expected_key = m->pub.pkey;
	if ((r = lint_cert(&in)) != 0 || (r = cms_signer_check(m->cert)) != 0)
		goto out;
out:
	ASN1_INTEGER_free(serial);
	return r;
}

/*
 * A rerun after a kill between writing the certificate and recording it: the key it
 * certifies is on the token under label, made as cert signer makes it (its evidence
 * checked again under the waivers stored beside it); nothing is generated or signed.
 */
static int signer_found(struct hsm *h, X509 *root, const struct profile *prof, const char *label,
			X509_NAME *name, const char *path, const struct history *hist, X509 **found,
			struct signer_made *m)
{
	struct rerun_expect e;
	struct lint_input in;
	unsigned stored = 0;
	int r;

	if ((r = p11key_find(h->session, label, &m->key)) != 0) {
		cer_err_prefix("%s: already exists; refusing to overwrite it: it is a certificate, but "
			       "the key it should certify is not on the token: ",
			       path);
		return CER_E_EXISTS;
	}
	if ((r = p11key_waivers_read(h->session, &m->key, &stored)) != 0 ||
	    (r = p11key_evidence_read(h->session, &m->key, &m->ev)) != 0 ||
	    (r = p11key_evidence_check(&m->ev, P11KEY_ROOT_NONE, 1, stored, NULL)) != 0 ||
	    (r = p11key_public_read(h->session, &m->key, &m->pub)) != 0)
		return r;
	e.issuer_key = X509_get0_pubkey(root);
	e.issuer_name = X509_get_subject_name(root);
	e.subject = name;
	e.subject_key = m->pub.pkey;
	e.what = "ceremony-signing certificate";
	memset(&in, 0, sizeof(in));
	in.cert = *found;
	in.issuer = root;
	in.profile = prof;
	in.expected_key = m->pub.pkey;
	if ((r = rerun_match(*found, path, &e, hist)) != 0 || (r = lint_cert(&in)) != 0 ||
	    (r = cms_signer_check(*found)) != 0)
		return r;
	m->cert = *found;
	*found = NULL;
	return 0;
}

static int signer_record(struct transcript *tr, const char *profile, const char *root_path,
			 const char *out_path, const char *root_label, const struct hsm *h,
			 const struct signer_made *m, int after_interruption)
{
	json_t *in = NULL, *outs = NULL, *details;
	char id_hex[2 * sizeof(m->key.id) + 1];
	int r;

	hex_encode(m->key.id, m->key.id_len, id_hex);
	if ((r = transcript_files(tr, &in, profile, root_path, NULL)) != 0 ||
	    (r = transcript_files(tr, &outs, out_path, NULL)) != 0)
		goto out;
	details = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:o, s:s, s:o}", "key",
					root_label, "token_serial", h->token.serial, "signer",
					"label", m->key.label, "id", id_hex, "type",
					key_type_name(m->key.type), "evidence",
					keyrecord_evidence(&m->ev),
					"spki_sha256", m->pub.spki_sha256_hex, "certificate",
					certinfo_json(m->cert, "ceremony-signer"));
	if (details != NULL && after_interruption)
		json_object_set_new(details, "recorded_after_interruption", json_true());
	r = transcript_append(tr, "cert.signer", in, outs, details, NULL);
	in = outs = NULL;
out:
	json_decref(in);
	json_decref(outs);
	return r;
}

int signer_create(struct ceremony_ctx *ctx, const struct signer_opts *o,
			  FILE *out)
{
	struct hsm h;
	struct transcript *tr = NULL;
	struct history *hist = NULL;
	struct profile prof;
	struct p11key root_key;
	struct signer_made m;
	X509 *root = NULL, *found = NULL;
	X509_NAME *name = NULL;
	uint8_t *pem = NULL, fp[SHA256_LEN];
	size_t pem_len = 0;
	const char *tpath;
	unsigned waivers = 0;
	int r;

	memset(&h, 0, sizeof(h));
	memset(&m, 0, sizeof(m));
	if (o->waive != NULL && (r = p11key_waivers_parse_list(o->waive, &waivers)) != 0)
		return r;
	/* STYLE 9: every input and the output path before the first login. */
	if ((r = ctx_transcript_path(ctx, "cert signer", &tpath)) != 0 ||
	    (r = profile_load(o->profile, &prof)) != 0 ||
	    (r = signer_profile_check(o->profile, &prof)) != 0 ||
	    (r = pem_load_cert(o->issuer, &root)) != 0)
		goto out;
	if (X509_check_ca(root) == 0) {
		r = cer_err(CER_E_REFUSED, "%s is not a CA certificate", o->issuer);
		goto out;
	}
	if ((r = signer_subject(root, o->subject, &name)) != 0 ||
	    (r = rerun_output(o->out_path, &found)) != 0 ||
	    (found != NULL && (r = history_load_beside(tpath, NULL, &hist)) != 0) ||
	    (r = ctx_transcript_open(ctx, "cert signer", &tr)) != 0)
		goto out;
	if ((r = hsm_open(ctx, o->token, &h)) != 0 || (r = hsm_login_user(ctx, &h)) != 0 ||
	    (r = p11key_find(h.session, o->root_key, &root_key)) != 0)
		goto out;
	if ((r = profile_check_key_type(&prof, root_key.type)) != 0)
		goto out;
	if ((r = hsmkey_cert_check_key(h.session, &root_key, root, o->issuer, "no key was generated")) != 0)
		goto out;
	if (found != NULL) {
		/* Found, not made: a refusal leaves the key and the file as they are. */
		if ((r = signer_found(&h, root, &prof, o->label, name, o->out_path, hist, &found, &m)) != 0 ||
		    (r = signer_record(tr, o->profile, o->issuer, o->out_path, o->root_key, &h, &m, 1)) != 0 ||
		    (r = certbuild_fingerprint(m.cert, fp)) != 0)
			goto out;
		fprintf(out, "Ceremony-signing certificate found at %s: an interrupted run wrote it and "
			     "did not record it; recorded now (nothing was generated or signed)\n",
			o->out_path);
		readaloud_print(out, "sha256", fp, 32);
		goto out;
	}
	if ((r = signer_build(&h, &root_key, root, &prof, o->label, waivers, name, &m)) != 0)
		goto undo;
	if ((r = pem_encode_cert(m.cert, &pem, &pem_len)) != 0 ||
	    (r = file_write_public(o->out_path, pem, pem_len)) != 0)
		goto undo;
	if ((r = signer_record(tr, o->profile, o->issuer, o->out_path, o->root_key, &h, &m, 0)) != 0) {
		/* Unrecorded: take back the certificate and the key, and say what is left. */
		if (unlink(o->out_path) != 0)
			cer_err_prefix("%s is LEFT (cannot remove it: %s): ", o->out_path,
				       strerror(errno));
		else
			cer_err_prefix("%s removed: ", o->out_path);
		goto undo;
	}
	if ((r = certbuild_fingerprint(m.cert, fp)) != 0)
		goto out;
	fprintf(out, "Ceremony-signing key \"%s\" generated in token \"%s\" (never extractable)\n",
		o->label, h.token.label);
	fprintf(out, "Its certificate, issued by the root (CA:FALSE, digitalSignature, "
		     "documentSigning), written to %s\n",
		o->out_path);
	readaloud_print(out, "sha256", fp, 32);
	goto out;
undo:
	/* Nothing may remain that the transcript does not record: p11key_discard puts what
	 * happened to the new key in front of the message. */
	if (m.key_made)
		(void)p11key_discard(h.session, &m.key);
out:
	hsm_session_end(&h);
	hsmkey_free(m.root_hk);
	free(pem);
	p11key_public_free(&m.pub);
	X509_free(m.cert);
	X509_NAME_free(name);
	X509_free(root);
	X509_free(found);
	history_free(hist);
	hsm_close(&h);
	transcript_close(tr);
	return r;
}

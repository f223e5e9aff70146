/* mediasign: the medium's manifest of what this ceremony wrote, signed by the ceremony-signing key. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony/archive.h"
#include "ceremony/ctx_transcript.h"
#include "ceremony/docsign.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/media.h"
#include "ceremony/mediasign.h"
#include "ceremony/pem.h"
#include "ceremony/readaloud.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"

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

int mediasign_medium(struct ceremony_ctx *ctx, const char *token, const char *key,
		     const char *cert_path, const char *medium, FILE *out)
{
	struct transcript *tr = NULL;
	X509 *cert = NULL;
	uint8_t *text = NULL, *there = NULL, *der = NULL, md[SHA256_LEN];
	size_t len = 0, there_len = 0, der_len = 0, n_files = 0;
	char path[PATH_MAX], sig[PATH_MAX];
	const char *tpath;
	json_t *outs = NULL;
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
	if ((r = transcript_files(tr, &outs, path, sig, NULL)) != 0)
		goto out;
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
	json_decref(outs);
	OPENSSL_free(der);
	free(there);
	free(text);
	X509_free(cert);
	transcript_close(tr);
	return r;
}

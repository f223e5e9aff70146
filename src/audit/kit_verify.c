/* kit_verify: a recovery kit checked offline (see include/ceremony/kit_verify.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "ceremony/cms.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/kit_verify.h"
#include "ceremony/media.h"
#include "ceremony/pem.h"
#include "ceremony/readaloud.h"
#include "ceremony/sizes.h"
#include "ceremony/transcript.h"

#define KIT_MAX_TRANSCRIPTS 100000
#define KIT_MAX_MANIFEST (64 * 1024 * 1024)

int kit_check_history(const char *history, X509 *root, const uint8_t blob_sha256[SHA256_LEN],
		      const uint8_t *internal_sha256, struct backup_made *made, FILE *out)
{
	char **names = NULL, path[PATH_MAX];
	size_t n = 0;
	struct backups *b = NULL;
	const struct backup_made *m;
	int r;

	if ((r = file_list_dir(history, ".jsonl", KIT_MAX_TRANSCRIPTS, &names, &n)) != 0)
		return r;
	if (n == 0) {
		r = cer_err(CER_E_NOTFOUND, "%s: no transcripts (*.jsonl)", history);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct transcript_report rep;
		if (snprintf(path, sizeof(path), "%s/%s", history, names[i]) >= (int)sizeof(path)) {
			r = cer_err(CER_E_INPUT, "%s: path too long", history);
			goto out;
		}
		if ((r = transcript_verify(path, root, 0, NULL, &rep)) != 0) {
			cer_err_prefix("history: ");
			goto out;
		}
	}
	if (out != NULL)
		fprintf(out, "  ✓ history: %zu transcript%s, each chain-verified and sealed under the "
			     "root\n",
			n, n == 1 ? "" : "s");
	if ((r = backups_load(history, &b)) != 0)
		goto out;
	m = backups_find_blob(b, blob_sha256);
	if (m == NULL) {
		r = cer_err(CER_E_REFUSED, "the blob is not one the history made (no backup.create or "
					   "backup.rekey record has its SHA-256)");
		goto out;
	}
	if (m->superseded) {
		r = cer_err(CER_E_REFUSED, "the blob is backup %s, superseded by backup %s: a kit "
					   "carries only the current backup",
			    m->backup_id, m->superseded_by);
		goto out;
	}
	if (out != NULL)
		fprintf(out, "  ✓ blob: backup %s (%s), recorded and not superseded\n", m->backup_id,
			m->action);
	if (internal_sha256 != NULL) {
		if (!m->has_internal ||
		    memcmp(m->internal_sha256, internal_sha256, SHA256_LEN) != 0) {
			r = cer_err(CER_E_REFUSED, "the internal record is not the one backup %s "
						   "wrote",
				    m->backup_id);
			goto out;
		}
		if (out != NULL)
			fprintf(out, "  ✓ internal record: the one backup %s wrote\n", m->backup_id);
	}
	if (made != NULL)
		*made = *m;
out:
	backups_free(b);
	file_names_free(names);
	return r;
}

/* The kit's file named by KIT.json's obj.path: inside dir, no "..". */
static int kit_path(const char *dir, json_t *obj, const char *what, char *path, size_t size)
{
	const char *rel = json_string_value(json_object_get(obj, "path"));

	if (rel == NULL || rel[0] == '/' || strstr(rel, "..") != NULL)
		return cer_err(CER_E_INPUT, "%s: %s: no path inside the kit", KIT_JSON, what);
	if (snprintf(path, size, "%s/%s", dir, rel) >= (int)size)
		return cer_err(CER_E_INPUT, "%s: path too long", rel);
	return 0;
}

static int sha_of(json_t *obj, uint8_t out[SHA256_LEN])
{
	const char *h = json_string_value(json_object_get(obj, "sha256"));
	if (h == NULL || strlen(h) != 64 || hex_decode(h, 64, out, SHA256_LEN) != 0)
		return cer_err(CER_E_INPUT, "%s: a file has no SHA-256", KIT_JSON);
	return 0;
}

/* scan: media_scan(dir), made before any of the kit's files was read. */
static int check_manifest(const char *dir, const struct media_manifest *scan, X509 *root,
			  FILE *out)
{
	char path[PATH_MAX], sig[PATH_MAX];
	uint8_t *text = NULL, *want = NULL, *der = NULL;
	size_t text_len = 0, want_len = 0, der_len = 0;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", dir, MEDIA_MANIFEST_NAME) >= (int)sizeof(path) ||
	    snprintf(sig, sizeof(sig), "%s/%s.sig", dir, MEDIA_MANIFEST_NAME) >= (int)sizeof(sig))
		return cer_err(CER_E_INPUT, "%s: path too long", dir);
	if ((r = file_read_all(path, KIT_MAX_MANIFEST, &want, &want_len)) != 0 ||
	    (r = file_read_all(sig, 1024 * 1024, &der, &der_len)) != 0)
		goto out;
	if ((r = cms_verify_detached(der, der_len, want, want_len, root, 0)) != 0) {
		cer_err_prefix("%s: ", sig);
		goto out;
	}
	fprintf(out, "  ✓ MANIFEST.sha256: signature verifies and chains to the root\n");
	if ((r = media_manifest_text(scan, &text, &text_len)) != 0)
		goto out;
	if (text_len != want_len || memcmp(text, want, text_len) != 0) {
		r = cer_err(CER_E_REFUSED, "%s: the kit's files differ from its signed manifest (a "
					   "file added, removed or changed: compare with sha256sum -c)",
			    dir);
		goto out;
	}
	fprintf(out, "  ✓ files: all %zu listed in the manifest, with the signed hashes, and no "
		     "others\n",
		scan->n);
out:
	free(text);
	free(want);
	free(der);
	return r;
}

static int check_tool(const char *dir, json_t *kit, FILE *out)
{
	json_t *src = json_object_get(json_object_get(kit, "tool"), "source");
	char path[PATH_MAX];
	uint8_t want[SHA256_LEN], got[SHA256_LEN];
	int r;

	if ((r = kit_path(dir, src, "tool.source", path, sizeof(path))) != 0 ||
	    (r = sha_of(src, want)) != 0 || (r = file_sha256(path, got)) != 0)
		return r;
	if (memcmp(want, got, SHA256_LEN) != 0)
		return cer_err(CER_E_REFUSED, "%s: the source archive's SHA-256 differs from %s",
			       path, KIT_JSON);
	fprintf(out, "  ✓ tool: the source archive matches its SHA-256\n");
	readaloud_print(out, "source sha256", got, 32);
	return 0;
}

int kit_verify(const char *dir, const char *root_expected, FILE *out)
{
	char path[PATH_MAX], history[PATH_MAX];
	uint8_t *raw = NULL, blob_sha[SHA256_LEN], internal_sha[SHA256_LEN], fp[SHA256_LEN];
	size_t raw_len = 0;
	unsigned fp_len = 0;
	json_t *kit = NULL;
	json_error_t jerr;
	X509 *root = NULL, *expected = NULL;
	struct media_manifest *scan = NULL;
	int r;

	fprintf(out, "Recovery kit %s\n", dir);
	if (snprintf(path, sizeof(path), "%s/%s", dir, KIT_JSON) >= (int)sizeof(path))
		return cer_err(CER_E_INPUT, "%s: path too long", dir);
	/* Before any file is read: only files and folders, no link out, no FIFO to hang on. */
	if ((r = media_scan(dir, &scan)) != 0 || (r = file_read_all(path, 16 * 1024 * 1024, &raw, &raw_len)) != 0)
		goto out;
	kit = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, &jerr);
	if (kit == NULL) {
		r = cer_err(CER_E_INPUT, "%s: not JSON: %s", path, jerr.text);
		goto out;
	}
	if ((r = kit_path(dir, json_object_get(kit, "root"), "root", path, sizeof(path))) != 0 ||
	    (r = pem_load_cert(path, &root)) != 0)
		goto out;
	if (!X509_digest(root, EVP_sha256(), fp, &fp_len)) {
		r = cer_err_ssl(CER_E_CRYPTO, "cannot hash the root certificate");
		goto out;
	}
	if (root_expected != NULL) {
		if ((r = pem_load_cert(root_expected, &expected)) != 0)
			goto out;
		if (X509_cmp(root, expected) != 0) {
			r = cer_err(CER_E_REFUSED, "the kit's root certificate is not %s",
				    root_expected);
			goto out;
		}
		fprintf(out, "  ✓ root: the kit's root certificate is %s\n", root_expected);
	} else {
		fprintf(out, "  ! root: anchored on the kit's own root.pem: compare its fingerprint "
			     "with the paper record of the root ceremony\n");
	}
	readaloud_print(out, "root certificate sha256", fp, fp_len);
	if ((r = check_manifest(dir, scan, root, out)) != 0)
		goto out;
	if ((r = kit_path(dir, json_object_get(kit, "history"), "history", history,
			  sizeof(history))) != 0 ||
	    (r = kit_path(dir, json_object_get(json_object_get(kit, "backup"), "blob"), "blob", path,
			  sizeof(path))) != 0 ||
	    (r = file_sha256(path, blob_sha)) != 0 ||
	    (r = kit_path(dir, json_object_get(json_object_get(kit, "backup"), "internal_record"),
			  "internal record", path, sizeof(path))) != 0 ||
	    (r = file_sha256(path, internal_sha)) != 0)
		goto out;
	if ((r = kit_check_history(history, root, blob_sha, internal_sha, NULL, out)) != 0 ||
	    (r = check_tool(dir, kit, out)) != 0)
		goto out;
	fprintf(out, "Kit intact: it holds what a recovery needs, signed at the ceremony.\n");
out:
	media_manifest_free(scan);
	free(raw);
	json_decref(kit);
	X509_free(root);
	X509_free(expected);
	return r;
}

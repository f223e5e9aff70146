/* kit: `backup kit`, the recovery kit (see include/ceremony/kit.h). */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "ceremony/archive.h"
#include "ceremony/docsign.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/kit.h"
#include "ceremony/kit_verify.h"
#include "ceremony/media.h"
#include "ceremony/pem.h"
#include "ceremony/readaloud.h"
#include "ceremony/sizes.h"

#define KIT_MAX_FILES 100000
#define KIT_MAX_FILE ((size_t)2 * 1024 * 1024 * 1024)

struct kit {
	const struct kit_params *p;
	char archive[PATH_MAX]; /* the CA's archive: the history folder's parent */
	char tmp[PATH_MAX];     /* the kit while it is written */
	json_t *doc;            /* KIT.json */
	struct backup_made made;
};

/* path relative to the archive if it lies inside it, else NULL (archive.h: the same
 * rule the transcript records paths by). */
static const char *in_archive(const struct kit *k, const char *path, char *rel, size_t size)
{
	int outside;

	if (path[0] == '\0' || archive_relative(k->archive, path, rel, size, &outside) != 0) {
		cer_err_clear();
		return NULL;
	}
	return outside ? NULL : rel;
}

/* Copy src into the kit at rel (folders made as needed); record {path, sha256} in *entry. */
static int put(struct kit *k, const char *src, const char *rel, json_t **entry)
{
	char dst[PATH_MAX], dir[PATH_MAX], hex[SHA256_HEX_SIZE];
	uint8_t md[SHA256_LEN];
	char *slash;
	int r;

	if (rel[0] == '/' || strstr(rel, "..") != NULL)
		return cer_err(CER_E_INTERNAL, "%s: not a path inside the kit", rel);
	if (snprintf(dst, sizeof(dst), "%s/%s", k->tmp, rel) >= (int)sizeof(dst))
		return cer_err(CER_E_INPUT, "%s: path too long", rel);
	memcpy(dir, dst, strlen(dst) + 1);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		if ((r = file_mkdirs(dir, 0755)) != 0)
			return r;
	}
	if ((r = file_copy_new(src, dst, KIT_MAX_FILE)) != 0 || (r = file_sha256(dst, md)) != 0)
		return r;
	if (entry != NULL) {
		hex_encode(md, SHA256_LEN, hex);
		*entry = json_pack("{s:s, s:s}", "path", rel, "sha256", hex);
		if (*entry == NULL)
			return cer_err(CER_E_NOMEM, "out of memory");
	}
	return 0;
}

/* Every regular file of folder src into the kit's folder rel. */
static int put_folder(struct kit *k, const char *src, const char *rel, json_t *list)
{
	char **names = NULL, from[PATH_MAX], to[PATH_MAX];
	size_t n = 0;
	int r;

	if ((r = file_list_dir(src, "", KIT_MAX_FILES, &names, &n)) != 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++) {
		json_t *e = NULL;
		if (snprintf(from, sizeof(from), "%s/%s", src, names[i]) >= (int)sizeof(from) ||
		    snprintf(to, sizeof(to), "%s/%s", rel, names[i]) >= (int)sizeof(to))
			r = cer_err(CER_E_INPUT, "%s: path too long", src);
		else if ((r = put(k, from, to, list != NULL ? &e : NULL)) == 0 && list != NULL)
			r = json_array_append_new(list, e) == 0 ? 0 : cer_err(CER_E_NOMEM, "out of memory");
	}
	file_names_free(names);
	return r;
}

/* Where a file the history names goes in the kit: its place in the archive, else fallback. */
static int place(const struct kit *k, const char *recorded, const char *fallback, char *rel,
		 size_t size)
{
	char real[PATH_MAX];
	const char *inside = in_archive(k, recorded, real, sizeof(real));
	const char *use = inside != NULL ? inside : fallback;

	if (strlen(use) >= size)
		return cer_err(CER_E_INPUT, "%s: path too long", use);
	memcpy(rel, use, strlen(use) + 1);
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 ? 0 : -1;
}

/* Checks before any prompt: nothing is written, no PIN asked, if one fails. */
static int kit_preflight(struct kit *k, X509 **root, const char **site)
{
	const struct kit_params *p = k->p;
	char hist[PATH_MAX], sums[PATH_MAX];
	uint8_t blob_md[SHA256_LEN], internal_md[SHA256_LEN];
	struct stat st;
	char *slash;
	int r;

	if (lstat(p->out_dir, &st) == 0)
		return cer_err(CER_E_EXISTS, "%s exists: a kit is written to a new folder; nothing "
					     "was written",
			       p->out_dir);
	if (realpath(p->history, hist) == NULL)
		return cer_err(CER_E_NOTFOUND, "%s: %s", p->history, strerror(errno));
	memcpy(k->archive, hist, strlen(hist) + 1);
	if ((slash = strrchr(k->archive, '/')) != NULL && slash != k->archive)
		*slash = '\0';
	if (*site == NULL && file_exists("ceremony.yaml"))
		*site = "ceremony.yaml";
	if (*site == NULL || !file_exists(*site))
		return cer_err(CER_E_USAGE, "%s: no site configuration: give --site-config FILE (the "
					    "backup site needs the module and the names it holds)",
			       *site != NULL ? *site : "ceremony.yaml");
	if (snprintf(sums, sizeof(sums), "%s/tool/SHA256SUMS", p->toolkit) >= (int)sizeof(sums))
		return cer_err(CER_E_INPUT, "%s: path too long", p->toolkit);
	if (!file_exists(sums))
		return cer_err(CER_E_NOTFOUND, "%s: no toolkit there (tool/SHA256SUMS missing): run "
					       "`make toolkit` where the tool was built",
			       p->toolkit);
	if ((r = pem_load_cert(p->root, root)) != 0 || (r = file_sha256(p->blob, blob_md)) != 0 ||
	    (r = file_sha256(p->internal_record, internal_md)) != 0)
		return r;
	return kit_check_history(p->history, *root, blob_md, internal_md, &k->made, NULL);
}

/* The tool's source archive named in SHA256SUMS ("hex  name" lines), checked. */
static int toolkit_source(const struct kit *k, char *name, size_t size, char *hex)
{
	char sums[PATH_MAX], path[PATH_MAX];
	uint8_t *text = NULL, md[SHA256_LEN];
	size_t len = 0;
	char got[SHA256_HEX_SIZE];
	int r, found = 0;

	if (snprintf(sums, sizeof(sums), "%s/tool/SHA256SUMS", k->p->toolkit) >= (int)sizeof(sums))
		return cer_err(CER_E_INPUT, "path too long");
	if ((r = file_read_all(sums, 65536, &text, &len)) != 0)
		return r;
	for (char *line = strtok((char *)text, "\n"); line != NULL && r == 0;
	     line = strtok(NULL, "\n")) {
		char *nm = line + 66;
		if (strlen(line) < 67 || line[64] != ' ' || line[SHA256_HEX_SIZE] != ' ' ||
		    strchr(nm, '/') != NULL) {
			r = cer_err(CER_E_INPUT, "%s: not sha256sum lines", sums);
			break;
		}
		if (snprintf(path, sizeof(path), "%s/tool/%s", k->p->toolkit, nm) >= (int)sizeof(path) ||
		    (r = file_sha256(path, md)) != 0) {
			r = r != 0 ? r : cer_err(CER_E_INPUT, "path too long");
			break;
		}
		hex_encode(md, SHA256_LEN, got);
		if (strncmp(got, line, 64) != 0) {
			r = cer_err(CER_E_REFUSED, "%s: SHA-256 differs from %s", path, sums);
			break;
		}
		if (!found && strstr(nm, "-src.tar") != NULL && strlen(nm) < size) {
			memcpy(name, nm, strlen(nm) + 1);
			memcpy(hex, got, 65);
			found = 1;
		}
	}
	free(text);
	if (r == 0 && !found)
		r = cer_err(CER_E_NOTFOUND, "%s names no source archive (*-src.tar*)", sums);
	return r;
}

static const char kit_readme[] =
	"Recovery kit of the root CA\n"
	"===========================\n\n"
	"This folder is what a backup site needs to reconstitute the root key when the\n"
	"primary site is gone, together with k Key Executive cards and their holders.\n\n"
	"1. Check it (no HSM, no network), on any machine with the tool:\n"
	"     ceremony backup kit verify THIS-FOLDER\n"
	"   and compare the root certificate's fingerprint it prints with the paper\n"
	"   record of the root key ceremony. Without the tool: `sha256sum -c MANIFEST.sha256`\n"
	"   and `openssl cms -verify -binary -inform DER -in MANIFEST.sha256.sig\n"
	"   -content MANIFEST.sha256 -CAfile <root certificate> -out /dev/null`.\n"
	"2. Build the tool from tool/ on a Debian 12 machine (the exact package versions it\n"
	"   was built and tested with are in tool/debian-packages.txt). With no network, when\n"
	"   the kit has debs/ (its .deb files, those versions, with their dependencies):\n"
	"     (cd debs && sha256sum -c SHA256SUMS) && apt-get install ./debs/*.deb\n"
	"   then:\n"
	"     mkdir ceremony && tar -C ceremony -xzf tool/ceremony-*-src.tar.gz\n"
	"     cd ceremony && make deps && make\n"
	"3. Follow guides/recovery.html: the blob, the root certificate, the history\n"
	"   (transcripts/) and the internal record (k, the cards) are named in KIT.json.\n"
	"   site/ceremony.yaml is the primary site's configuration (the module path and\n"
	"   names); adapt the module to the backup HSM.\n\n"
	"The internal record is confidential (it says how many cards are needed and who\n"
	"holds them): keep this kit in the backup site's safe.\n";

static int kit_write_all(struct kit *k, const char *site)
{
	const struct kit_params *p = k->p;
	char rel[PATH_MAX], src_name[256], src_hex[SHA256_HEX_SIZE], path[PATH_MAX];
	json_t *e, *transcripts = json_array(), *guides = json_array(), *tool = json_array();
	int r;

	if (transcripts == NULL || guides == NULL || tool == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = toolkit_source(k, src_name, sizeof(src_name), src_hex)) != 0)
		goto out;
	/* The history keeps its folder name, so every recorded relative path still resolves. */
	{
		char real[PATH_MAX];
		const char *hist_rel = in_archive(k, p->history, real, sizeof(real));
		if (hist_rel == NULL)
			hist_rel = "transcripts";
		if ((r = put_folder(k, p->history, hist_rel, transcripts)) != 0)
			goto out;
		json_object_set_new(k->doc, "history",
				    json_pack("{s:s, s:o}", "path", hist_rel, "files", transcripts));
		transcripts = NULL;
	}
	if ((r = place(k, k->made.blob, "backup/root-backup.blob", rel, sizeof(rel))) != 0 ||
	    (r = put(k, p->blob, rel, &e)) != 0)
		goto out;
	json_object_set_new(e, "backup_id", json_string(k->made.backup_id));
	json_object_set_new(e, "recorded_by", json_string(k->made.action));
	json_object_set_new(k->doc, "backup", json_pack("{s:o}", "blob", e));
	if ((r = place(k, k->made.internal, "internal/backup-internal.json", rel, sizeof(rel))) != 0 ||
	    (r = put(k, p->internal_record, rel, &e)) != 0)
		goto out;
	json_object_set_new(json_object_get(k->doc, "backup"), "internal_record", e);
	if ((r = place(k, p->root, "root.pem", rel, sizeof(rel))) != 0 ||
	    (r = put(k, p->root, rel, &e)) != 0)
		goto out;
	json_object_set_new(k->doc, "root", e);
	if ((r = put(k, site, "site/ceremony.yaml", &e)) != 0)
		goto out;
	json_object_set_new(k->doc, "site_config", e);
	if (snprintf(path, sizeof(path), "%s/tool", p->toolkit) >= (int)sizeof(path) ||
	    (r = put_folder(k, path, "tool", tool)) != 0)
		goto out;
	if (snprintf(path, sizeof(path), "tool/%s", src_name) >= (int)sizeof(path)) {
		r = cer_err(CER_E_INPUT, "%s: name too long", src_name);
		goto out;
	}
	json_object_set_new(k->doc, "tool",
			    json_pack("{s:s, s:{s:s, s:s}, s:s, s:o}", "version",
				      "ceremony " CEREMONY_VERSION, "source", "path", path, "sha256",
				      src_hex, "packages", "tool/debian-packages.txt", "files", tool));
	tool = NULL;
	if (snprintf(path, sizeof(path), "%s/guides", p->toolkit) >= (int)sizeof(path) ||
	    (r = put_folder(k, path, "guides", guides)) != 0)
		goto out;
	json_object_set_new(k->doc, "guides", guides);
	guides = NULL;
	/* The .deb files, when the toolkit has them (make toolkit DEBS=1): no network there. */
	if (snprintf(path, sizeof(path), "%s/debs/SHA256SUMS", p->toolkit) >= (int)sizeof(path)) {
		r = cer_err(CER_E_INPUT, "%s: path too long", p->toolkit);
		goto out;
	}
	if (file_exists(path)) {
		json_t *debs = json_array();
		path[strlen(path) - strlen("/SHA256SUMS")] = '\0';
		if (debs == NULL || (r = put_folder(k, path, "debs", debs)) != 0) {
			json_decref(debs);
			r = r != 0 ? r : cer_err(CER_E_NOMEM, "out of memory");
			goto out;
		}
		json_object_set_new(k->doc, "debs", json_pack("{s:s, s:i}", "sums", "debs/SHA256SUMS",
							     "files", (json_int_t)json_array_size(debs) - 1));
		json_decref(debs);
	}
	if (snprintf(path, sizeof(path), "%s/README.txt", k->tmp) >= (int)sizeof(path) ||
	    (r = file_write_new(path, kit_readme, strlen(kit_readme))) != 0)
		goto out;
	{
		char *text = json_dumps(k->doc, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (text == NULL) {
			r = cer_err(CER_E_NOMEM, "out of memory");
			goto out;
		}
		if (snprintf(path, sizeof(path), "%s/%s", k->tmp, KIT_JSON) >= (int)sizeof(path))
			r = cer_err(CER_E_INPUT, "path too long");
		else
			r = file_write_new(path, text, strlen(text));
		free(text);
	}
out:
	json_decref(transcripts);
	json_decref(guides);
	json_decref(tool);
	return r;
}

/* MANIFEST.sha256 over what the kit holds, and its signature by the HSM key. */
static int kit_sign(struct ceremony_ctx *ctx, struct kit *k, uint8_t md[SHA256_LEN])
{
	struct media_manifest *m = NULL;
	uint8_t *text = NULL, *der = NULL;
	size_t len = 0, der_len = 0;
	char path[PATH_MAX];
	X509 *cert = NULL;
	int r;

	if ((r = media_scan(k->tmp, &m)) != 0 || (r = media_manifest_text(m, &text, &len)) != 0 ||
	    (r = pem_load_cert(k->p->cert, &cert)) != 0)
		goto out;
	if ((r = docsign_detached(ctx, k->p->token, k->p->key, cert, k->p->cert, text, len, &der,
				  &der_len)) != 0)
		goto out;
	if (snprintf(path, sizeof(path), "%s/%s", k->tmp, MEDIA_MANIFEST_NAME) >= (int)sizeof(path)) {
		r = cer_err(CER_E_INPUT, "path too long");
		goto out;
	}
	if ((r = file_write_new(path, text, len)) != 0)
		goto out;
	if (snprintf(path, sizeof(path), "%s/%s.sig", k->tmp, MEDIA_MANIFEST_NAME) >= (int)sizeof(path)) {
		r = cer_err(CER_E_INPUT, "path too long");
		goto out;
	}
	if ((r = file_write_new(path, der, der_len)) != 0)
		goto out;
	r = crypto_hash_sha256(md, text, len) == 0 ? 0 : cer_err(CER_E_CRYPTO, "SHA-256 failed");
out:
	media_manifest_free(m);
	free(text);
	OPENSSL_free(der);
	X509_free(cert);
	return r;
}

int kit_make(struct ceremony_ctx *ctx, const struct kit_params *p, FILE *out)
{
	struct kit k;
	X509 *root = NULL;
	const char *site = p->site_config != NULL ? p->site_config : ctx->config_path;
	char parent[PATH_MAX], *slash;
	uint8_t md[SHA256_LEN];
	time_t now = time(NULL);
	char when[TIME_TEXT_SIZE];
	int r, made_tmp = 0, placed = 0;

	memset(&k, 0, sizeof(k));
	k.p = p;
	if ((r = kit_preflight(&k, &root, &site)) != 0)
		goto out;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	k.doc = json_pack("{s:i, s:s}", "kit", 1, "made", when);
	if (k.doc == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	if (snprintf(k.tmp, sizeof(k.tmp), "%s.partial-XXXXXX", p->out_dir) >= (int)sizeof(k.tmp)) {
		r = cer_err(CER_E_INPUT, "%s: path too long", p->out_dir);
		goto out;
	}
	if (mkdtemp(k.tmp) == NULL) {
		r = cer_err(CER_E_IO, "%s: cannot make a folder beside it: %s", p->out_dir,
			    strerror(errno));
		goto out;
	}
	made_tmp = 1;
	if ((r = kit_write_all(&k, site)) != 0 || (r = kit_sign(ctx, &k, md)) != 0)
		goto out;
	if (chmod(k.tmp, 0755) != 0 || renameat2(AT_FDCWD, k.tmp, AT_FDCWD, p->out_dir,
						 RENAME_NOREPLACE) != 0) {
		r = cer_err(errno == EEXIST ? CER_E_EXISTS : CER_E_IO, "%s: cannot put the kit in "
								       "place: %s",
			    p->out_dir, strerror(errno));
		goto out;
	}
	made_tmp = 0;
	placed = 1;
	memcpy(parent, p->out_dir, strlen(p->out_dir) + 1);
	slash = strrchr(parent, '/');
	if (slash != NULL)
		*slash = '\0';
	if ((r = file_sync_dir(slash != NULL ? parent : ".")) != 0)
		goto out;
	fprintf(out, "Recovery kit written to %s: backup %s, the history, the root certificate, "
		     "the internal record, the site configuration, the guides and the tool's "
		     "source.\n",
		p->out_dir, k.made.backup_id);
	readaloud_print(out, "MANIFEST.sha256", md, 32);
	fprintf(out, "Check it with: ceremony backup kit verify %s\n", p->out_dir);
out:
	if (r != 0) {
		char why[768];
		int n = snprintf(why, sizeof(why), "%s", cer_err_msg(r));
		(void)n; /* a long reason is cut, never lost: the code stays */
		if (placed)
			r = cer_err(r, "%s; the kit %s is complete but its folder entry may not be on "
				       "disk yet: check it with `ceremony backup kit verify`",
				    why, p->out_dir);
		else if (made_tmp && nftw(k.tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
			r = cer_err(r, "%s; the unfinished kit %s could not be removed: remove it by "
				       "hand",
				    why, k.tmp);
		else if (made_tmp)
			r = cer_err(r, "%s; nothing was written (the unfinished kit was removed)", why);
	}
	json_decref(k.doc);
	X509_free(root);
	return r;
}

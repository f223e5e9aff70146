#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony/countersig.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "ceremony/transcript.h"

#define COUNTERSIG_MAX_FILES 64
#define REGISTRY_MAX_TRANSCRIPTS 4096

struct registered_key {
	char role[COUNTERSIG_ROLE_MAX + 1];
	uint8_t spki_sha256[SHA256_LEN];
	EVP_PKEY *key;
	char where[PATH_MAX + 32]; /* "FILE line N", for messages */
};

struct countersig_registry {
	struct registered_key *keys;
	size_t n;
};

int countersig_role_check(const char *role)
{
	size_t len = strlen(role);

	if (len == 0 || len > COUNTERSIG_ROLE_MAX)
		return cer_err(CER_E_INPUT, "role \"%.40s\" must be 1 to %d characters", role,
			       COUNTERSIG_ROLE_MAX);
	for (const char *p = role; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return cer_err(CER_E_INPUT,
				       "role \"%.40s\": use only letters, digits, - and _ (it names "
				       "a file)",
				       role);
	return 0;
}

int countersig_path(const char *transcript, const char *role, char *out, size_t size)
{
	if (snprintf(out, size, "%s" COUNTERSIG_SUFFIX "%s", transcript, role) >= (int)size)
		return cer_err(CER_E_INPUT, "%s: path too long", transcript);
	return 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}

int countersig_encode(const char *transcript, const uint8_t transcript_sha256[SHA256_LEN],
		      const char *role, const uint8_t signer_spki_sha256[SHA256_LEN],
		      const uint8_t *sig, size_t sig_len, char **out)
{
	char md_hex[SHA256_HEX_SIZE], spki_hex[SHA256_HEX_SIZE],
	    sig_hex[2 * COUNTERSIG_SIG_MAX + 1];
	json_t *o;
	char *text;
	size_t len;

	*out = NULL;
	if (sig_len == 0 || sig_len > COUNTERSIG_SIG_MAX)
		return cer_err(CER_E_INTERNAL, "signature of %zu bytes", sig_len);
	hex_encode(transcript_sha256, SHA256_LEN, md_hex);
	hex_encode(signer_spki_sha256, SHA256_LEN, spki_hex);
	hex_encode(sig, sig_len, sig_hex);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "format", COUNTERSIG_FORMAT,
		      "transcript", base_name(transcript), "transcript_sha256", md_hex, "role", role,
		      "signer_spki_sha256", spki_hex, "signature_algorithm", COUNTERSIG_ALGORITHM,
		      "signature", sig_hex);
	text = o != NULL ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)
			 : NULL;
	json_decref(o);
	if (text == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	len = strlen(text);
	*out = realloc(text, len + 2);
	if (*out == NULL) {
		free(text);
		return cer_err(CER_E_NOMEM, "out of memory");
	}
	(*out)[len] = '\n';
	(*out)[len + 1] = '\0';
	return 0;
}

int countersig_registry_new(struct countersig_registry **out)
{
	*out = calloc(1, sizeof(**out));
	return *out == NULL ? cer_err(CER_E_NOMEM, "out of memory") : 0;
}

void countersig_registry_free(struct countersig_registry *reg)
{
	if (reg == NULL)
		return;
	for (size_t i = 0; i < reg->n; i++)
		EVP_PKEY_free(reg->keys[i].key);
	free(reg->keys);
	free(reg);
}

size_t countersig_registry_count(const struct countersig_registry *reg)
{
	return reg->n;
}

struct registry_read {
	struct countersig_registry *reg;
	const char *path;
};

/* A public key from hex DER that must hash to the recorded SHA-256. */
static int spki_decode(const char *hex, const uint8_t want[SHA256_LEN], EVP_PKEY **key)
{
	size_t hexlen = hex != NULL ? strlen(hex) : 0;
	uint8_t der[1024], md[SHA256_LEN];
	const unsigned char *p = der;
	unsigned int mdlen = 0;

	*key = NULL;
	if (hexlen == 0 || hexlen % 2 != 0 || hexlen / 2 > sizeof(der) ||
	    hex_decode(hex, hexlen, der, hexlen / 2) != 0)
		return CER_E_INPUT;
	if (!EVP_Digest(der, hexlen / 2, md, &mdlen, EVP_sha256(), NULL) ||
	    CRYPTO_memcmp(md, want, SHA256_LEN) != 0)
		return CER_E_VERIFY;
	*key = d2i_PUBKEY(NULL, &p, (long)(hexlen / 2));
	if (*key == NULL || p != der + hexlen / 2) {
		EVP_PKEY_free(*key);
		*key = NULL;
		return CER_E_INPUT;
	}
	return 0;
}

static int registry_cb(void *arg, long line, json_t *rec)
{
	struct registry_read *rr = arg;
	const char *action = json_string_value(json_object_get(rec, "action"));
	json_t *w = json_object_get(json_object_get(rec, "details"), "witness");
	const char *role = json_string_value(json_object_get(w, "role"));
	const char *md_hex = json_string_value(json_object_get(w, "spki_sha256"));
	struct registered_key k, *grown;
	int r;

	if (action == NULL || strcmp(action, "witness.register") != 0)
		return 0;
	memset(&k, 0, sizeof(k));
	if (role == NULL || countersig_role_check(role) != 0 || md_hex == NULL ||
	    strlen(md_hex) != 64 || hex_decode(md_hex, 64, k.spki_sha256, SHA256_LEN) != 0)
		return cer_err(CER_E_VERIFY, "%s line %ld: witness.register record is malformed",
			       rr->path, line);
	r = spki_decode(json_string_value(json_object_get(w, "spki")), k.spki_sha256, &k.key);
	if (r != 0)
		return cer_err(CER_E_VERIFY,
			       "%s line %ld: the registered witness key %s its spki_sha256",
			       rr->path, line,
			       r == CER_E_VERIFY ? "does not match" : "is not a public key with");
	memcpy(k.role, role, strlen(role) + 1);
	if ((r = text_format(k.where, sizeof(k.where), "witness registration place", "%s line %ld",
			     base_name(rr->path), line)) != 0) {
		EVP_PKEY_free(k.key);
		return r;
	}
	grown = realloc(rr->reg->keys, (rr->reg->n + 1) * sizeof(*grown));
	if (grown == NULL) {
		EVP_PKEY_free(k.key);
		return cer_err(CER_E_NOMEM, "out of memory");
	}
	rr->reg->keys = grown;
	rr->reg->keys[rr->reg->n++] = k;
	return 0;
}

int countersig_registry_add(struct countersig_registry *reg, const char *transcript)
{
	struct registry_read rr = {reg, transcript};

	return transcript_each(transcript, registry_cb, &rr);
}

int countersig_registry_add_records(struct countersig_registry *reg, const char *transcript,
				    json_t *records)
{
	struct registry_read rr = {reg, transcript};

	return transcript_each_records(transcript, records, registry_cb, &rr);
}

static int json_field(json_t *o, const char *name, const char **out)
{
	*out = json_string_value(json_object_get(o, name));
	return *out != NULL ? 0 : -1;
}

struct countersig_file {
	const char *role, *transcript, *md_hex, *signer_hex, *sig_hex;
	uint8_t md[SHA256_LEN], signer[SHA256_LEN], sig[COUNTERSIG_SIG_MAX];
	size_t sig_len;
};

/* Parse the fields of a countersignature file; every field required, no others. */
static int countersig_parse(const char *file, json_t *o, struct countersig_file *cs)
{
	const char *format, *alg;
	size_t siglen;

	if (!json_is_object(o) || json_object_size(o) != 7 || json_field(o, "format", &format) ||
	    json_field(o, "transcript", &cs->transcript) ||
	    json_field(o, "transcript_sha256", &cs->md_hex) || json_field(o, "role", &cs->role) ||
	    json_field(o, "signer_spki_sha256", &cs->signer_hex) ||
	    json_field(o, "signature_algorithm", &alg) || json_field(o, "signature", &cs->sig_hex))
		return cer_err(CER_E_VERIFY, "%s: not a countersignature (fields missing or extra)",
			       file);
	if (strcmp(format, COUNTERSIG_FORMAT) != 0 || strcmp(alg, COUNTERSIG_ALGORITHM) != 0)
		return cer_err(CER_E_VERIFY, "%s: format \"%.40s\" / algorithm \"%.40s\" not known",
			       file, format, alg);
	siglen = strlen(cs->sig_hex);
	if (strlen(cs->md_hex) != 64 || hex_decode(cs->md_hex, 64, cs->md, SHA256_LEN) != 0 ||
	    strlen(cs->signer_hex) != 64 ||
	    hex_decode(cs->signer_hex, 64, cs->signer, SHA256_LEN) != 0 || siglen == 0 ||
	    siglen % 2 != 0 || siglen / 2 > sizeof(cs->sig) ||
	    hex_decode(cs->sig_hex, siglen, cs->sig, siglen / 2) != 0)
		return cer_err(CER_E_VERIFY, "%s: a hash, key or signature is not hex of its size",
			       file);
	cs->sig_len = siglen / 2;
	return 0;
}

static const struct registered_key *registry_find(const struct countersig_registry *reg,
						  const uint8_t spki[SHA256_LEN], const char *role,
						  const struct registered_key **other_role)
{
	*other_role = NULL;
	for (size_t i = 0; i < reg->n; i++) {
		if (memcmp(reg->keys[i].spki_sha256, spki, SHA256_LEN) != 0)
			continue;
		if (strcmp(reg->keys[i].role, role) == 0)
			return &reg->keys[i];
		*other_role = &reg->keys[i];
	}
	return NULL;
}

static int ecdsa_verify(EVP_PKEY *key, const uint8_t md[SHA256_LEN], const uint8_t *sig, size_t len)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(key, NULL);
	int ok = pctx != NULL && EVP_PKEY_verify_init(pctx) > 0 &&
		 EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) > 0 &&
		 EVP_PKEY_verify(pctx, sig, len, md, SHA256_LEN) == 1;

	EVP_PKEY_CTX_free(pctx);
	return ok;
}

/* One countersignature file against the transcript's hash and the registry. */
static int countersig_check_one(const char *file, const char *role, const uint8_t md[SHA256_LEN],
				 const struct countersig_registry *reg,
				const struct registered_key **signer)
{
	struct countersig_file cs;
	const struct registered_key *k, *other;
	uint8_t *data = NULL;
	size_t len = 0;
	json_error_t jerr;
	json_t *o = NULL;
	int r;

	memset(&cs, 0, sizeof(cs));
	if ((r = file_read_all(file, COUNTERSIG_MAX_BYTES, &data, &len)) != 0)
		return r;
	o = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		r = cer_err(CER_E_VERIFY, "%s: not JSON (%s)", file, jerr.text);
		goto out;
	}
	if ((r = countersig_parse(file, o, &cs)) != 0)
		goto out;
	if (strcmp(cs.role, role) != 0) {
		r = cer_err(CER_E_VERIFY, "%s: says role \"%.40s\", but its name says \"%s\"", file,
			    cs.role, role);
		goto out;
	}
	if (CRYPTO_memcmp(cs.md, md, SHA256_LEN) != 0) {
		r = cer_err(CER_E_VERIFY,
			    "%s: countersigns a different transcript (sha256 %.16s..., this one is "
			    "not that)",
			    file, cs.md_hex);
		goto out;
	}
	k = registry_find(reg, cs.signer, role, &other);
	if (k == NULL && other != NULL) {
		r = cer_err(CER_E_VERIFY, "%s: signed by the key registered as %s (%s), not as %s",
			    file, other->role, other->where, role);
		goto out;
	}
	if (k == NULL) {
		r = cer_err(CER_E_VERIFY,
			    "%s: signed by key %.16s..., which no transcript registers as a "
			    "witness",
			    file, cs.signer_hex);
		goto out;
	}
	if (!ecdsa_verify(k->key, md, cs.sig, cs.sig_len)) {
		r = cer_err(CER_E_VERIFY,
			    "%s: the signature does not verify with %s's registered key (%s)", file,
			    role, k->where);
		goto out;
	}
	*signer = k;
	r = 0;
out:
	json_decref(o);
	free(data);
	return r;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The countersignature files next to transcript, sorted (names malloc'd). */
static int countersig_list(const char *transcript, char *dir, size_t dirsize, char **names,
			   size_t *n)
{
	const char *base = base_name(transcript);
	size_t blen = strlen(base), slen = strlen(COUNTERSIG_SUFFIX);
	struct dirent *de;
	DIR *d;
	int r = 0;

	*n = 0;
	if (base == transcript)
		r = text_copy(dir, dirsize, "transcript folder", ".");
	else if (snprintf(dir, dirsize, "%.*s", (int)(base - transcript - 1), transcript) >=
		 (int)dirsize)
		return cer_err(CER_E_INPUT, "%s: path too long", transcript);
	else if (dir[0] == '\0')
		r = text_copy(dir, dirsize, "transcript folder", "/");
	if (r != 0)
		return r;
	d = opendir(dir);
	if (d == NULL)
		return cer_err(CER_E_IO, "%s: cannot list its folder: %s", transcript,
			       strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, base, blen) != 0 ||
		    strncmp(de->d_name + blen, COUNTERSIG_SUFFIX, slen) != 0)
			continue;
		if (*n == COUNTERSIG_MAX_FILES || (names[*n] = strdup(de->d_name)) == NULL) {
			closedir(d);
			for (size_t i = 0; i < *n; i++)
				free(names[i]);
			*n = 0;
			return cer_err(CER_E_INPUT, "%s: more than %d countersignatures", transcript,
				       COUNTERSIG_MAX_FILES);
		}
		(*n)++;
	}
	closedir(d);
	qsort(names, *n, sizeof(names[0]), by_name);
	return 0;
}

static int roles_add(struct countersig_report *rep, const char *role)
{
	return text_append(rep->roles, sizeof(rep->roles), "the countersigning roles", "%s%s",
			   rep->roles[0] != '\0' ? ", " : "", role);
}

int countersig_check_all(const char *transcript, const struct countersig_registry *reg,
			 FILE *out, struct countersig_report *rep)
{
	char dir[PATH_MAX], file[PATH_MAX];
	char *names[COUNTERSIG_MAX_FILES];
	size_t n = 0, slen = strlen(base_name(transcript)) + strlen(COUNTERSIG_SUFFIX);
	uint8_t md[SHA256_LEN];
	int r;

	memset(rep, 0, sizeof(*rep));
	if ((r = countersig_list(transcript, dir, sizeof(dir), names, &n)) != 0)
		return r;
	if (n > 0 && (r = file_sha256(transcript, md)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct registered_key *k = NULL;
		const char *role = names[i] + slen;

		if (snprintf(file, sizeof(file), "%s/%s", dir, names[i]) >= (int)sizeof(file)) {
			r = cer_err(CER_E_INPUT, "%s: path too long", names[i]);
			goto out;
		}
		if (countersig_role_check(role) != 0) {
			r = cer_err(CER_E_VERIFY,
				    "%s: not a countersignature name (TRANSCRIPT.countersig-ROLE); a "
				    "left-over or planted file",
				    file);
			goto out;
		}
		if ((r = countersig_check_one(file, role, md, reg, &k)) != 0)
			goto out;
		rep->count++;
		if ((r = roles_add(rep, role)) != 0)
			goto out;
		if (out != NULL)
			fprintf(out, "  countersigned by %s: key registered at %s, signature ok\n",
				role, k->where);
	}
	r = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return r;
}

/* Every sealed transcript in dir, verified, adds its witness keys. */
static int registry_add_dir(struct countersig_registry *reg, const char *dir, X509 *root)
{
	char **names = NULL;
	size_t n = 0;
	int r;

	if ((r = file_list_dir(dir, ".jsonl", 256, &names, &n)) != 0) {
		cer_err_prefix("registry: ");
		return r;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		struct transcript_report rep;
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path))
			r = cer_err(CER_E_INPUT, "%s: path too long", dir);
		else if ((r = transcript_verify(path, root, root == NULL ? TRANSCRIPT_ALLOW_UNANCHORED : 0, NULL,
						   &rep)) != 0)
			cer_err_prefix("registry: ");
		else
			r = countersig_registry_add(reg, path);
	}
	file_names_free(names);
	return r;
}

int countersig_verify_transcript(const char *transcript, X509 *root, const char *registry_dir,
				 FILE *out)
{
	struct countersig_registry *reg = NULL;
	struct countersig_report rep;
	int r;

	if ((r = countersig_registry_new(&reg)) != 0)
		return r;
	if ((r = countersig_registry_add(reg, transcript)) != 0 ||
	    (registry_dir != NULL && (r = registry_add_dir(reg, registry_dir, root)) != 0))
		goto out;
	if ((r = countersig_check_all(transcript, reg, out, &rep)) != 0)
		goto out;
	if (rep.count > 0)
		fprintf(out, "Countersigned by %s: %d countersignature%s verified\n", rep.roles,
			rep.count, rep.count == 1 ? "" : "s");
	else
		fprintf(out, "No countersignatures (%zu witness key%s registered)\n",
			countersig_registry_count(reg), countersig_registry_count(reg) == 1 ? "" : "s");
out:
	countersig_registry_free(reg);
	return r;
}

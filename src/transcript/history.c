#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/history.h"
#include "ceremony/transcript.h"

#define HISTORY_MAX_FILES 4096

int history_has_serial(const struct history *h, const char *hex)
{
	for (size_t i = 0; i < h->n_serials; i++)
		if (strcasecmp(h->serials[i], hex) == 0)
			return 1;
	return 0;
}

int history_has_spki(const struct history *h, const uint8_t spki[32])
{
	for (size_t i = 0; i < h->n_spki; i++)
		if (memcmp(h->spki[i], spki, 32) == 0)
			return 1;
	return 0;
}

int history_add_serial(struct history *h, const char *hex)
{
	char(*grown)[HISTORY_SERIAL_HEX_MAX];

	if (strlen(hex) >= HISTORY_SERIAL_HEX_MAX)
		return cer_err(CER_E_INPUT, "serial %.48s... is longer than 20 octets", hex);
	if (history_has_serial(h, hex))
		return 0;
	grown = realloc(h->serials, (h->n_serials + 1) * sizeof(*grown));
	if (grown == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	h->serials = grown;
	memcpy(h->serials[h->n_serials++], hex, strlen(hex) + 1);
	return 0;
}

int history_add_spki(struct history *h, const uint8_t spki[32])
{
	uint8_t(*grown)[32];

	if (history_has_spki(h, spki))
		return 0;
	grown = realloc(h->spki, (h->n_spki + 1) * sizeof(*grown));
	if (grown == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	h->spki = grown;
	memcpy(h->spki[h->n_spki++], spki, 32);
	return 0;
}

const struct history_ca *history_find_ca(const struct history *h, const char *hex)
{
	for (size_t i = 0; i < h->n_ca; i++)
		if (strcasecmp(h->ca[i].serial, hex) == 0)
			return &h->ca[i];
	return NULL;
}

int history_add_ca(struct history *h, const char *hex, const unsigned char *subject_der,
		   size_t len)
{
	struct history_ca *grown;
	unsigned char *der = NULL;

	if (strlen(hex) >= HISTORY_SERIAL_HEX_MAX)
		return cer_err(CER_E_INPUT, "serial %.48s... is longer than 20 octets", hex);
	if (len > 0 && (der = malloc(len)) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	grown = realloc(h->ca, (h->n_ca + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(der);
		return cer_err(CER_E_NOMEM, "out of memory");
	}
	h->ca = grown;
	memset(&h->ca[h->n_ca], 0, sizeof(*grown));
	memcpy(h->ca[h->n_ca].serial, hex, strlen(hex) + 1);
	if (len > 0)
		memcpy(der, subject_der, len);
	h->ca[h->n_ca].subject_der = der;
	h->ca[h->n_ca].subject_der_len = len;
	h->n_ca++;
	return 0;
}

/* details.certificate of a CA: its serial and subject DER (hex) into h->ca. */
static int history_ca_record(struct history *h, json_t *cert)
{
	const char *serial = json_string_value(json_object_get(cert, "serial"));
	const char *der_hex = json_string_value(json_object_get(cert, "subject_der"));
	size_t hex_len = der_hex != NULL ? strlen(der_hex) : 0;
	unsigned char *der = NULL;
	int r;

	if (serial == NULL)
		return 0;
	if (hex_len % 2 != 0 || hex_len > 2 * 4096)
		return cer_err(CER_E_INPUT, "a certificate record's subject_der is malformed");
	if (hex_len > 0 && (der = malloc(hex_len / 2)) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if (hex_len > 0 && hex_decode(der_hex, hex_len, der, hex_len / 2) != 0) {
		free(der);
		return cer_err(CER_E_INPUT, "a certificate record's subject_der is not hex");
	}
	r = history_add_ca(h, serial, der, hex_len / 2);
	free(der);
	return r;
}

/* RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" (older records: seconds since the epoch). */
static int history_time(json_t *t, long long *out)
{
	const char *s = json_string_value(t);
	struct tm tm;
	char *end;

	if (json_is_integer(t)) {
		*out = (long long)json_integer_value(t);
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL || *end != '\0')
		return -1;
	*out = (long long)timegm(&tm);
	return 0;
}

static int history_add_revocation(struct history *h, json_t *entry)
{
	const char *serial = json_string_value(json_object_get(entry, "serial"));
	const char *reason = json_string_value(json_object_get(entry, "reason"));
	json_t *t = json_object_get(entry, "time");
	struct history_revocation *grown;
	long long when = 0;

	if (serial == NULL || strlen(serial) >= HISTORY_SERIAL_HEX_MAX || history_time(t, &when) != 0)
		return cer_err(CER_E_INPUT, "a revocation record is malformed");
	for (size_t i = 0; i < h->n_revoked; i++)
		if (strcasecmp(h->revoked[i].serial, serial) == 0)
			return 0;
	grown = realloc(h->revoked, (h->n_revoked + 1) * sizeof(*grown));
	if (grown == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	h->revoked = grown;
	memset(&h->revoked[h->n_revoked], 0, sizeof(*grown));
	memcpy(h->revoked[h->n_revoked].serial, serial, strlen(serial) + 1);
	(void)snprintf(h->revoked[h->n_revoked].reason, sizeof(grown->reason), "%s",
		       reason != NULL ? reason : "unspecified");
	h->revoked[h->n_revoked].time = when;
	h->n_revoked++;
	return 0;
}

static int history_spki_hex(struct history *h, const char *hex)
{
	uint8_t md[32];

	if (hex == NULL || strlen(hex) != 64 || hex_decode(hex, 64, md, 32) != 0)
		return 0;
	return history_add_spki(h, md);
}

static int history_record(void *arg, long line, json_t *rec)
{
	struct history *h = arg;
	const char *action = json_string_value(json_object_get(rec, "action"));
	json_t *d = json_object_get(rec, "details"), *cert = json_object_get(d, "certificate");
	json_t *revoked, *e;
	size_t i;
	int r;

	(void)line;
	if (action == NULL)
		return 0;
	if (strcmp(action, "key.generate") == 0)
		return history_spki_hex(h, json_string_value(json_object_get(d, "spki_sha256")));
	if (strcmp(action, "cert.root") == 0 || strcmp(action, "cert.issue") == 0 ||
	    strcmp(action, "cert.signer") == 0) {
		const char *serial = json_string_value(json_object_get(cert, "serial"));
		const char *kind = json_string_value(json_object_get(d, "profile_kind"));
		if (serial != NULL && (r = history_add_serial(h, serial)) != 0)
			return r;
		if ((strcmp(action, "cert.root") == 0 || (kind != NULL && strcmp(kind, "ca") == 0)) &&
		    (r = history_ca_record(h, cert)) != 0)
			return r;
		return history_spki_hex(h, json_string_value(json_object_get(cert, "spki_sha256")));
	}
	if (strcmp(action, "crl.sign") == 0) {
		json_int_t n = json_integer_value(json_object_get(d, "crl_number"));
		if (n > h->max_crl_number)
			h->max_crl_number = n;
		revoked = json_object_get(d, "revoked");
		json_array_foreach(revoked, i, e)
		{
			if ((r = history_add_revocation(h, e)) != 0)
				return r;
		}
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int history_load(const char *dir, struct history **out)
{
	struct history *h;
	DIR *d;
	struct dirent *de;
	char *names[HISTORY_MAX_FILES];
	size_t n = 0;
	int r = 0;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT) {
			*out = h;
			return 0;
		}
		free(h);
		return cer_err(CER_E_IO, "%s: cannot read the transcripts folder: %s", dir,
			       strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len < 7 || strcmp(de->d_name + len - 6, ".jsonl") != 0)
			continue;
		if (n == HISTORY_MAX_FILES) {
			r = cer_err(CER_E_INPUT, "%s: more than %d transcripts", dir,
				    HISTORY_MAX_FILES);
			break;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			r = cer_err(CER_E_NOMEM, "out of memory");
			break;
		}
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), by_name);
	for (size_t i = 0; i < n && r == 0; i++) {
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path))
			r = cer_err(CER_E_INPUT, "%s: path too long", dir);
		else if ((r = transcript_each(path, history_record, h)) != 0)
			cer_err_prefix("the CA's history is not intact: ");
		h->n_transcripts++;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	if (r != 0) {
		history_free(h);
		return r;
	}
	*out = h;
	return 0;
}

int history_load_beside(const char *transcript, const char *dir, struct history **out)
{
	char folder[PATH_MAX];
	const char *slash;

	if (dir != NULL)
		return history_load(dir, out);
	slash = strrchr(transcript, '/');
	if (slash == NULL)
		return history_load(".", out);
	if (snprintf(folder, sizeof(folder), "%.*s", (int)(slash - transcript), transcript) >=
	    (int)sizeof(folder))
		return cer_err(CER_E_INPUT, "%s: path too long", transcript);
	return history_load(folder[0] != '\0' ? folder : "/", out);
}

void history_free(struct history *h)
{
	if (h == NULL)
		return;
	free(h->serials);
	free(h->spki);
	free(h->revoked);
	for (size_t i = 0; i < h->n_ca; i++)
		free(h->ca[i].subject_der);
	free(h->ca);
	free(h);
}

/* Reading a CSR strictly, its fingerprints and its text (checks: csr_check.c). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ceremony/csr.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/sizes.h"
#include "ceremony/textbuf.h"
#include "csr_int.h"

#define PEM_BEGIN "-----BEGIN "
#define PEM_CSR_NAME "CERTIFICATE REQUEST"

static int is_space(uint8_t b)
{
	return b == ' ' || b == '\t' || b == '\r' || b == '\n';
}

static int csr_pem_err(const char *name, const char *why)
{
	return cer_err(CER_E_INPUT, "%s: pem-format: %s", name, why);
}

/* Only whitespace may follow the one block; name what does. */
static int csr_pem_rest(BIO *bio, const char *name)
{
	char *rest = NULL;
	long n = BIO_get_mem_data(bio, &rest);

	for (long i = 0; i < n; i++) {
		if (is_space((uint8_t)rest[i]))
			continue;
		if ((size_t)(n - i) >= strlen(PEM_BEGIN) &&
		    memcmp(rest + i, PEM_BEGIN, strlen(PEM_BEGIN)) == 0)
			return csr_pem_err(name, "another PEM block follows the request "
						 "(one request per file)");
		return csr_pem_err(name, "data follows the PEM block");
	}
	return 0;
}

/* PEM: one CERTIFICATE REQUEST block, no headers, only whitespace around it. */
static int csr_pem_decode(const uint8_t *data, size_t len, const char *name, uint8_t **der,
			  size_t *der_len)
{
	BIO *bio = NULL;
	char *pem_name = NULL, *header = NULL;
	unsigned char *body = NULL;
	long body_len = 0;
	size_t start = 0;
	int r;

	*der = NULL;
	if (memchr(data, '\0', len) != NULL)
		return csr_pem_err(name, "neither DER nor PEM (NUL byte in text)");
	while (start < len && is_space(data[start]))
		start++;
	if (len - start < strlen(PEM_BEGIN) || memcmp(data + start, PEM_BEGIN, strlen(PEM_BEGIN)))
		return csr_pem_err(name, "neither DER nor a PEM block at the start");
	if ((bio = BIO_new_mem_buf(data + start, (int)(len - start))) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if (PEM_read_bio(bio, &pem_name, &header, &body, &body_len) <= 0) {
		r = cer_err_ssl(CER_E_INPUT, "%s: pem-format: unreadable PEM block", name);
		goto out;
	}
	if (strcmp(pem_name, PEM_CSR_NAME) != 0) {
		r = csr_pem_err(name, "the PEM block is not a CERTIFICATE REQUEST");
		goto out;
	}
	if (header[0] != '\0') {
		r = csr_pem_err(name, "PEM headers are not allowed");
		goto out;
	}
	if ((r = csr_pem_rest(bio, name)) != 0)
		goto out;
	if ((*der = malloc(body_len > 0 ? (size_t)body_len : 1)) == NULL) {
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*der, body, (size_t)body_len);
	*der_len = (size_t)body_len;
	r = 0;
out:
	ERR_clear_error();
	OPENSSL_free(pem_name);
	OPENSSL_free(header);
	OPENSSL_free(body);
	BIO_free(bio);
	return r;
}

/* True when name re-encodes (without its cached bytes) to the bytes it was read from. */
static int csr_name_is_der(const X509_NAME *name)
{
	X509_NAME *copy = X509_NAME_new();
	unsigned char *a = NULL, *b = NULL;
	int prev_set = -1, la, lb, ok = 0;

	if (copy == NULL)
		goto out;
	for (int i = 0; i < X509_NAME_entry_count(name); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		int set = X509_NAME_ENTRY_set(e);

		if (!X509_NAME_add_entry(copy, e, -1, set == prev_set ? -1 : 0))
			goto out;
		prev_set = set;
	}
	la = i2d_X509_NAME(name, &a);
	lb = i2d_X509_NAME(copy, &b);
	ok = la > 0 && la == lb && memcmp(a, b, (size_t)la) == 0;
out:
	OPENSSL_free(a);
	OPENSSL_free(b);
	X509_NAME_free(copy);
	return ok;
}

/* The extensionRequest value is kept as raw bytes by OpenSSL: check its DER apart. */
static int csr_extensions_load(struct csr *c)
{
	int idx = X509_REQ_get_attr_by_NID(c->req, NID_ext_req, -1);
	const ASN1_TYPE *t;
	unsigned char *re = NULL;
	int n, r;

	if ((c->exts = X509_REQ_get_extensions(c->req)) == NULL)
		return cer_err_ssl(CER_E_INPUT, "%s: der-strict: the extension request does not decode",
				   c->name);
	if (idx < 0)
		return 0;
	t = X509_ATTRIBUTE_get0_type(X509_REQ_get_attr(c->req, idx), 0);
	if (t == NULL || t->type != V_ASN1_SEQUENCE)
		return cer_err(CER_E_INPUT, "%s: der-strict: the extension request is not a SEQUENCE",
			       c->name);
	n = i2d_X509_EXTENSIONS(c->exts, &re);
	r = n > 0 && n == t->value.sequence->length &&
			    memcmp(re, t->value.sequence->data, (size_t)n) == 0
		    ? 0
		    : cer_err(CER_E_INPUT, "%s: der-strict: the extension request is not DER "
				   "(trailing, default-valued or non-minimal fields)",
			      c->name);
	OPENSSL_free(re);
	return r;
}

/* The subject's own DER, then the extension request. */
static int csr_parse_rest(struct csr *c)
{
	if (!csr_name_is_der(X509_REQ_get_subject_name(c->req)))
		return cer_err(CER_E_INPUT, "%s: der-strict: the subject is not DER", c->name);
	return csr_extensions_load(c);
}

/*
 * RFC 2986 requests are DER: re-encoding what OpenSSL parsed (without the
 * cached encodings it keeps for signature checks) must give the input back,
 * which refuses trailing bytes, indefinite or long-form lengths, default
 * values written out and unsorted SETs.
 */
static int csr_parse_der(struct csr *c)
{
	const unsigned char *p = c->der;
	unsigned char *re = NULL;
	int n, r;

	if (c->der_len > CSR_MAX_BYTES)
		return cer_err(CER_E_INPUT, "%s: der-strict: larger than %d bytes", c->name,
			       CSR_MAX_BYTES);
	if (csr_parse_fast(c)) /* DER already: the same bytes re-encoded */
		return csr_parse_rest(c);
	c->req = d2i_X509_REQ(NULL, &p, (long)c->der_len);
	if (c->req == NULL)
		return cer_err_ssl(CER_E_INPUT, "%s: der-strict: not a PKCS#10 request", c->name);
	if (p != c->der + c->der_len)
		return cer_err(CER_E_INPUT, "%s: der-strict: %zu bytes follow the request", c->name,
			       (size_t)(c->der + c->der_len - p));
	/* Drop the cached request-info encoding so i2d really re-encodes. */
	if (i2d_re_X509_REQ_tbs(c->req, NULL) <= 0)
		return cer_err_ssl(CER_E_INPUT, "%s: der-strict: cannot re-encode", c->name);
	n = i2d_X509_REQ(c->req, &re);
	r = n > 0 && (size_t)n == c->der_len && memcmp(re, c->der, c->der_len) == 0;
	OPENSSL_free(re);
	if (!r)
		return cer_err(CER_E_INPUT, "%s: der-strict: not DER (re-encoding differs: "
					    "indefinite or non-minimal lengths, or non-canonical fields)",
			       c->name);
	if ((r = csr_parse_rest(c)) != 0)
		return r;
	ERR_set_mark();
	c->pkey = X509_REQ_get0_pubkey(c->req);
	if (c->pkey == NULL) {
		unsigned long e = ERR_peek_last_error();
		char why[200] = "unsupported or malformed key";

		if (e != 0)
			ERR_error_string_n(e, why, sizeof(why));
		if (snprintf(c->key_error, sizeof(c->key_error), "%s", why) >=
		    (int)sizeof(c->key_error))
			c->key_error[sizeof(c->key_error) - 1] = '\0';
	}
	ERR_pop_to_mark();
	return 0;
}

int csr_parse(const uint8_t *data, size_t len, const char *name, struct csr **out)
{
	struct csr *c;
	int r;

	*out = NULL;
	if (len > CSR_MAX_BYTES)
		return cer_err(CER_E_INPUT, "%s: larger than %d bytes", name, CSR_MAX_BYTES);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if (snprintf(c->name, sizeof(c->name), "%s", name) >= (int)sizeof(c->name)) {
		r = cer_err(CER_E_INPUT, "CSR name too long");
		goto out;
	}
	if (len > 0 && data[0] == 0x30) {
		if ((c->der = malloc(len)) == NULL) {
			r = cer_err(CER_E_NOMEM, "out of memory");
			goto out;
		}
		memcpy(c->der, data, len);
		c->der_len = len;
	} else if ((r = csr_pem_decode(data, len, name, &c->der, &c->der_len)) != 0)
		goto out;
	if ((r = csr_parse_der(c)) != 0)
		goto out;
	*out = c;
	c = NULL;
	r = 0;
out:
	ERR_clear_error();
	csr_free(c);
	return r;
}

/* One TLV of at most max bytes at *p, of this universal tag and form; *p moves to
 * its contents, *body_len is their length (ASN1_get_object checks it fits). */
static int der_header(const unsigned char **p, long max, int tag, int constructed,
		      long *body_len)
{
	int t = 0, xclass = 0, ret = ASN1_get_object(p, body_len, &t, &xclass, max);

	if ((ret & 0x80) != 0 || (ret & 0x01) != 0 || xclass != V_ASN1_UNIVERSAL || t != tag ||
	    ((ret & V_ASN1_CONSTRUCTED) != 0) != constructed)
		return -1;
	return 0;
}

/* CertificationRequest { CertificationRequestInfo { version, subject, spki, ... } ... } */
static int csr_raw_walk(struct csr_raw *out)
{
	const unsigned char *p = out->der, *end = out->der + out->der_len, *info_end, *start;
	long n;

	if (der_header(&p, end - p, V_ASN1_SEQUENCE, 1, &n) != 0 ||
	    der_header(&p, end - p, V_ASN1_SEQUENCE, 1, &n) != 0)
		return -1;
	info_end = p + n;
	if (der_header(&p, info_end - p, V_ASN1_INTEGER, 0, &n) != 0)
		return -1;
	p += n;
	start = p;
	if (der_header(&p, info_end - p, V_ASN1_SEQUENCE, 1, &n) != 0)
		return -1;
	p += n;
	out->subject = start;
	out->subject_len = (size_t)(p - start);
	start = p;
	if (der_header(&p, info_end - p, V_ASN1_SEQUENCE, 1, &n) != 0)
		return -1;
	p += n;
	out->spki = start;
	out->spki_len = (size_t)(p - start);
	return 0;
}

int csr_raw_load(const char *path, struct csr_raw *out)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = file_read_all(path, CSR_MAX_BYTES, &data, &len)) != 0)
		return r;
	if (len > 0 && data[0] == 0x30) {
		out->der = data;
		out->der_len = len;
		data = NULL;
	} else if ((r = csr_pem_decode(data, len, path, &out->der, &out->der_len)) != 0)
		goto out;
	if (csr_raw_walk(out) != 0)
		r = cer_err(CER_E_INPUT, "%s: not a PKCS#10 request", path);
out:
	ERR_clear_error();
	free(data);
	if (r != 0)
		csr_raw_free(out);
	return r;
}

void csr_raw_free(struct csr_raw *r)
{
	free(r->der);
	memset(r, 0, sizeof(*r));
}

int csr_load(const char *path, struct csr **out)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = file_read_all(path, CSR_MAX_BYTES, &data, &len)) != 0)
		return r;
	r = csr_parse(data, len, path, out);
	free(data);
	return r;
}

void csr_free(struct csr *c)
{
	if (c == NULL)
		return;
	sk_X509_EXTENSION_pop_free(c->exts, X509_EXTENSION_free);
	if (c->pkey_owned)
		EVP_PKEY_free(c->pkey);
	X509_REQ_free(c->req);
	free(c->der);
	free(c);
}

const char *csr_name(const struct csr *c)
{
	return c->name;
}

X509_REQ *csr_req(const struct csr *c)
{
	return c->req;
}

EVP_PKEY *csr_pubkey(const struct csr *c)
{
	return c->pkey;
}

static int csr_sha256_of(const uint8_t *data, size_t len, uint8_t out[static SHA256_LEN])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) <= 0 || n != SHA256_LEN)
		return cer_err_ssl(CER_E_CRYPTO, "SHA-256 failed");
	return 0;
}

static int csr_pubkey_sha256(const X509_PUBKEY *pub, uint8_t out[static SHA256_LEN])
{
	unsigned char *der = NULL;
	int n, r;

	if (pub == NULL || (n = i2d_X509_PUBKEY(pub, &der)) <= 0)
		return cer_err_ssl(CER_E_CRYPTO, "cannot encode the public key");
	r = csr_sha256_of(der, (size_t)n, out);
	OPENSSL_free(der);
	return r;
}

int csr_spki_sha256(const struct csr *c, uint8_t out[static SHA256_LEN])
{
	return csr_pubkey_sha256(X509_REQ_get_X509_PUBKEY(c->req), out);
}

int csr_cert_spki_sha256(const X509 *x, uint8_t out[static SHA256_LEN])
{
	return csr_pubkey_sha256(X509_get_X509_PUBKEY(x), out);
}

int csr_sha256(const struct csr *c, uint8_t out[static SHA256_LEN])
{
	return csr_sha256_of(c->der, c->der_len, out);
}

/* Keep only printable ASCII: request text must not drive the ceremony room's terminal. */
static void csr_text_sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

static int csr_bio_text(BIO *bio, char *buf, size_t size)
{
	char *mem = NULL;
	long n = BIO_get_mem_data(bio, &mem);

	if (size == 0)
		return cer_err(CER_E_INTERNAL, "no room for text");
	if (n < 0)
		n = 0;
	if ((size_t)n >= size)
		return cer_err(CER_E_INPUT, "text longer than %zu bytes", size - 1);
	if (n > 0)
		memcpy(buf, mem, (size_t)n);
	buf[n] = '\0';
	csr_text_sanitize(buf);
	return 0;
}

int csr_subject_text(const struct csr *c, char *buf, size_t size)
{
	/* RFC 2253 escaping (control and non-ASCII bytes as \XX), readable separators. */
	const unsigned long flags = ASN1_STRFLGS_RFC2253 | ASN1_STRFLGS_ESC_QUOTE |
				    XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN | XN_FLAG_DUMP_UNKNOWN_FIELDS;
	BIO *bio = BIO_new(BIO_s_mem());
	int r;

	if (bio == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if (X509_NAME_print_ex(bio, X509_REQ_get_subject_name(c->req), 0, flags) < 0)
		r = cer_err_ssl(CER_E_INPUT, "%s: cannot print the subject", c->name);
	else
		r = csr_bio_text(bio, buf, size);
	BIO_free(bio);
	return r;
}

int csr_key_type(const struct csr *c, enum key_type *out)
{
	char group[NAME_SIZE];
	size_t glen = 0;
	int bits;

	if (c->pkey == NULL)
		return cer_err(CER_E_INPUT, "%s: the public key does not decode", c->name);
	bits = EVP_PKEY_get_bits(c->pkey);
	if (EVP_PKEY_is_a(c->pkey, "RSA") && bits > 0 &&
	    key_type_from_rsa_bits((unsigned)bits, out) == 0)
		return 0;
	if (EVP_PKEY_is_a(c->pkey, "EC") &&
	    EVP_PKEY_get_utf8_string_param(c->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
					   sizeof(group), &glen) > 0) {
		int nid = OBJ_txt2nid(group);

		if (nid == NID_undef)
			nid = EC_curve_nist2nid(group);
		if (key_type_from_curve(nid, out) == 0)
			return 0;
	}
	ERR_clear_error();
	return cer_err(CER_E_INPUT, "%s: the key is none of ec-p256, ec-p384, rsa-3072, rsa-4096",
		       c->name);
}

void csr_key_text(const struct csr *c, char *buf, size_t size)
{
	char group[NAME_SIZE] = "";
	size_t glen = 0;
	BIGNUM *e = NULL;
	char *dec = NULL;
	int n = -1;

	if (size == 0)
		return;
	if (c->pkey == NULL)
		n = snprintf(buf, size, "undecodable key (%s)", c->key_error);
	else if (EVP_PKEY_is_a(c->pkey, "RSA")) {
		if (EVP_PKEY_get_bn_param(c->pkey, OSSL_PKEY_PARAM_RSA_E, &e) > 0)
			dec = BN_bn2dec(e);
		n = snprintf(buf, size, "RSA %d bits, e=%s", EVP_PKEY_get_bits(c->pkey),
			     dec != NULL ? dec : "?");
	} else if (EVP_PKEY_is_a(c->pkey, "EC")) {
		if (EVP_PKEY_get_utf8_string_param(c->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
						   sizeof(group), &glen) <= 0)
			/* a literal shorter than NAME_SIZE: never cut */
			text_format_cut(group, sizeof(group), "explicit parameters");
		n = snprintf(buf, size, "EC %s (%d bits)", group, EVP_PKEY_get_bits(c->pkey));
	} else
		n = snprintf(buf, size, "%s key", EVP_PKEY_get0_type_name(c->pkey));
	if (n < 0 || (size_t)n >= size)
		buf[size - 1] = '\0'; /* display text only: cut, never overflow */
	csr_text_sanitize(buf);
	OPENSSL_free(dec);
	BN_free(e);
	ERR_clear_error();
}

void csr_extensions_print(const struct csr *c, FILE *f)
{
	char oid[CSR_OID_TEXT_MAX], line[2048];
	int n = sk_X509_EXTENSION_num(c->exts);

	if (n <= 0) {
		fprintf(f, "  (none)\n");
		return;
	}
	for (int i = 0; i < n; i++) {
		X509_EXTENSION *ext = sk_X509_EXTENSION_value(c->exts, i);
		const ASN1_OBJECT *obj = X509_EXTENSION_get_object(ext);
		int nid = OBJ_obj2nid(obj);
		BIO *bio = BIO_new(BIO_s_mem());

		csr_oid_text(obj, oid, sizeof(oid));
		fprintf(f, "  %s (%s)%s: ", nid != NID_undef ? OBJ_nid2sn(nid) : "unknown", oid,
			X509_EXTENSION_get_critical(ext) ? " critical" : "");
		if (bio != NULL && X509V3_EXT_print(bio, ext, X509V3_EXT_DUMP_UNKNOWN, 0) > 0 &&
		    csr_bio_text(bio, line, sizeof(line)) == 0)
			fprintf(f, "%s\n", line);
		else
			fprintf(f, "(cannot print)\n");
		BIO_free(bio);
	}
	ERR_clear_error();
	cer_err_clear();
}

void csr_oid_text(const ASN1_OBJECT *o, char *buf, size_t size)
{
	if (size == 0)
		return;
	if (OBJ_obj2txt(buf, (int)size, o, 1) <= 0 || strlen(buf) >= size - 1)
		/* A void display helper: a buffer too small for this is a caller's bug. */
		text_format_cut(buf, size, "(unprintable OID)");
}

void csr_verdict(struct csr_report *rep, const char *name, int pass, const char *fmt, ...)
{
	struct csr_verdict *v;
	va_list ap;
	int n;

	if (rep->n >= CSR_MAX_CHECKS)
		return; /* csr_check refuses the request when this happens */
	v = &rep->checks[rep->n++];
	v->pass = pass;
	if (text_copy(v->name, sizeof(v->name), "CSR check name", name) != 0) {
		/* A check we cannot name fails, so csr_check refuses rather than misreport. */
		text_format_cut(v->name, sizeof(v->name), "%s", name);
		text_format_cut(v->msg, sizeof(v->msg), "%s", cer_err_msg(CER_E_INPUT));
		cer_err_clear();
		rep->n_failed++;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		v->msg[0] = '\0';
	else if ((size_t)n >= sizeof(v->msg))
		memcpy(v->msg + sizeof(v->msg) - 4, "...", 4);
	csr_text_sanitize(v->msg);
	if (!pass)
		rep->n_failed++;
}

void csr_report_print(const struct csr_report *report, FILE *f)
{
	for (int i = 0; i < report->n; i++) {
		const struct csr_verdict *v = &report->checks[i];

		if (v->pass)
			fprintf(f, "  \u2713 %s%s%s%s\n", v->name, v->msg[0] ? " (" : "", v->msg,
				v->msg[0] ? ")" : "");
		else
			fprintf(f, "  \u2717 %s: %s\n", v->name, v->msg);
	}
}

void csr_report_failed_names(const struct csr_report *report, char *buf, size_t size)
{
	size_t used = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (int i = 0; i < report->n; i++) {
		const struct csr_verdict *v = &report->checks[i];
		int n;

		if (v->pass)
			continue;
		n = snprintf(buf + used, size - used, "%s%s", used > 0 ? ", " : "", v->name);
		if (n < 0 || (size_t)n >= size - used) {
			buf[used] = '\0';
			return; /* the count still says how many failed */
		}
		used += (size_t)n;
	}
}

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/pem.h"

int pem_load_cert(const char *path, X509 **out)
{
	uint8_t *data = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	X509 *x = NULL, *extra = NULL;
	const unsigned char *p;
	int r;

	*out = NULL;
	if ((r = file_read_all(path, PEM_CERT_MAX_BYTES, &data, &len)) != 0)
		return r;
	if (len > 0 && data[0] == 0x30) {
		p = data;
		x = d2i_X509(NULL, &p, (long)len);
		if (x == NULL || p != data + len) {
			r = cer_err_ssl(CER_E_INPUT, "%s: not exactly one DER certificate", path);
			goto out;
		}
	} else {
		bio = BIO_new_mem_buf(data, (int)len);
		if (bio == NULL) {
			r = cer_err(CER_E_NOMEM, "out of memory");
			goto out;
		}
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		if (x == NULL) {
			r = cer_err_ssl(CER_E_INPUT, "%s: no PEM certificate", path);
			goto out;
		}
		extra = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		if (extra != NULL) {
			r = cer_err(CER_E_INPUT, "%s: holds more than one certificate", path);
			goto out;
		}
	}
	ERR_clear_error();
	*out = x;
	x = NULL;
	r = 0;
out:
	X509_free(x);
	X509_free(extra);
	BIO_free(bio);
	free(data);
	return r;
}

static int bio_append(BIO *bio, uint8_t **buf, size_t *len)
{
	char *mem = NULL;
	long n = BIO_get_mem_data(bio, &mem);
	uint8_t *grown;

	if (n <= 0)
		return cer_err(CER_E_CRYPTO, "nothing encoded");
	grown = realloc(*buf, *len + (size_t)n + 1);
	if (grown == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	memcpy(grown + *len, mem, (size_t)n);
	*len += (size_t)n;
	grown[*len] = '\0';
	*buf = grown;
	return 0;
}

int pem_encode_cert(X509 *x, uint8_t **buf, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int r;

	if (bio == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if (!PEM_write_bio_X509(bio, x))
		r = cer_err_ssl(CER_E_CRYPTO, "cannot encode the certificate");
	else
		r = bio_append(bio, buf, len);
	BIO_free(bio);
	return r;
}

int pem_encode_crl(X509_CRL *crl, uint8_t **buf, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int r;

	if (bio == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	if (!PEM_write_bio_X509_CRL(bio, crl))
		r = cer_err_ssl(CER_E_CRYPTO, "cannot encode the CRL");
	else
		r = bio_append(bio, buf, len);
	BIO_free(bio);
	return r;
}

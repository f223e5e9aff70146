#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "ceremony/err.h"
#include "ceremony/textbuf.h"


/* The one mutable state we allow, like errno (and like errno, one per thread): the last failure's words. */
static _Thread_local char err_detail[CER_ERR_DETAIL_SIZE];

__attribute__((format(printf, 1, 0))) static void err_vset(const char *fmt, va_list ap)
{
	int n = vsnprintf(err_detail, sizeof(err_detail), fmt, ap);
	if (n < 0)
		err_detail[0] = '\0';
}

int cer_err(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(fmt, ap);
	va_end(ap);
	return code;
}

int cer_err_ssl(int code, const char *fmt, ...)
{
	va_list ap;
	unsigned long e;
	char ssl[256], cause[512];
	const char *data = NULL;
	int flags = 0;
	size_t used;

	va_start(ap, fmt);
	err_vset(fmt, ap);
	va_end(ap);
	e = ERR_peek_last_error();
	if (e != 0)
		ERR_error_string_n(e, ssl, sizeof(ssl));
	/* Our own callbacks (hsmkey's C_Sign) leave the cause as text: it beats OpenSSL's wrapper. */
	cause[0] = '\0';
	while (cause[0] == '\0' && ERR_get_error_all(NULL, NULL, NULL, &data, &flags) != 0)
		if ((flags & ERR_TXT_STRING) && data != NULL && data[0] != '\0' &&
		    strstr(data, "CKR_") != NULL)
			/* A cut cause still names the CKR_: better than none. */
			text_format_cut(cause, sizeof(cause), "%s", data);
	/* The detail is already the failure's message: cutting its tail beats losing it. */
	used = strlen(err_detail);
	if (cause[0] != '\0')
		text_format_cut(err_detail + used, sizeof(err_detail) - used, ": %s", cause);
	else if (e != 0)
		text_format_cut(err_detail + used, sizeof(err_detail) - used, " (%s)", ssl);
	ERR_clear_error();
	return code;
}

void cer_err_prefix(const char *fmt, ...)
{
	char prefix[CER_ERR_DETAIL_SIZE];
	char old[CER_ERR_DETAIL_SIZE];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t plen = (size_t)n < sizeof(err_detail) - 1 ? (size_t)n : sizeof(err_detail) - 1;
	memcpy(old, err_detail, sizeof(old));
	memcpy(err_detail, prefix, plen);
	size_t rest = strnlen(old, sizeof(old) - 1);
	if (rest > sizeof(err_detail) - 1 - plen)
		rest = sizeof(err_detail) - 1 - plen;
	memcpy(err_detail + plen, old, rest);
	err_detail[plen + rest] = '\0';
}

const char *cer_err_msg(int code)
{
	if (err_detail[0] != '\0')
		return err_detail;
	return cer_strerror(code);
}

void cer_err_clear(void)
{
	err_detail[0] = '\0';
}

const char *cer_strerror(int code)
{
	switch (code) {
	case CER_OK: return "success";
	case CER_E_USAGE: return "usage error";
	case CER_E_INPUT: return "invalid input";
	case CER_E_REFUSED: return "refused";
	case CER_E_IO: return "input/output error";
	case CER_E_EXISTS: return "already exists";
	case CER_E_NOTFOUND: return "not found";
	case CER_E_P11: return "PKCS#11 module error";
	case CER_E_CRYPTO: return "cryptographic library error";
	case CER_E_PIN: return "wrong or missing PIN";
	case CER_E_NOMEM: return "out of memory";
	case CER_E_VERIFY: return "verification failed";
	default: return "internal error";
	}
}

int cer_exit_code(int code)
{
	if (code == CER_OK)
		return 0;
	if (code == CER_E_USAGE)
		return 2;
	return 1;
}

/*
 * err — error codes and the one-line reason shown to the user.
 *
 * Owns: the CER_E_* codes every fallible function returns (0 or negative), and
 * the detail message of the most recent failure. Like errno and OpenSSL's error
 * queue, the detail is per process: a module that fails calls cer_err() with
 * the reason (naming the file or object), the caller may prefix context, and
 * only main prints it. Does not own: exit codes beyond cer_exit_code().
 */
#ifndef CEREMONY_ERR_H
#define CEREMONY_ERR_H

#define CER_OK 0
#define CER_E_INTERNAL -1 /* a bug or an unexpected library failure */
#define CER_E_USAGE -2    /* bad command line: exit 2 */
#define CER_E_INPUT -3    /* malformed or unacceptable input */
#define CER_E_REFUSED -4  /* a rule refused the operation */
#define CER_E_IO -5       /* reading or writing a file failed */
#define CER_E_EXISTS -6   /* the target already exists; nothing overwritten */
#define CER_E_NOTFOUND -7 /* a token, key, file or object is missing */
#define CER_E_P11 -8      /* the PKCS#11 module refused */
#define CER_E_CRYPTO -9   /* OpenSSL or libsodium failed */
#define CER_E_PIN -10     /* wrong or missing PIN / passphrase */
#define CER_E_NOMEM -11   /* out of (secure) memory */
#define CER_E_VERIFY -12  /* a verification failed (signature, chain, hash) */

/* The detail's room, NUL included: a buffer this size holds any cer_err_msg() whole. */
#define CER_ERR_DETAIL_SIZE 1024

/* Record the reason for a failure; returns code so callers can `return cer_err(...)`. */
int cer_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, and append the first OpenSSL error in the queue (then clear the queue). */
int cer_err_ssl(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Put context in front of the current detail: "media/x.csr: " + detail. */
void cer_err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The current detail, or a generic text for code if none was recorded. */
const char *cer_err_msg(int code);
void cer_err_clear(void);
const char *cer_strerror(int code);
/* 0 for CER_OK, 2 for CER_E_USAGE, 1 for every other failure. */
int cer_exit_code(int code);

#endif

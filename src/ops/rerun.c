/* rerun: a certificate a killed run wrote and did not record (see include/ceremony/rerun.h). */
#include <openssl/err.h>

#include "ceremony/certinfo.h"
#include "ceremony/err.h"
#include "ceremony/fileio.h"
#include "ceremony/pem.h"
#include "ceremony/rerun.h"

int rerun_output(const char *path, X509 **found)
{
	*found = NULL;
	if (!file_exists(path))
		return file_check_new(path);
	if (pem_load_cert(path, found) != 0) {
		ERR_clear_error();
		return cer_err(CER_E_EXISTS, "%s: already exists; refusing to overwrite it: it holds "
					     "no certificate",
			       path);
	}
	return 0;
}

int rerun_match(X509 *found, const char *path, const struct rerun_expect *e,
		const struct history *hist)
{
	char serial[HISTORY_SERIAL_HEX_MAX];
	EVP_PKEY *key = X509_get0_pubkey(found);

	ERR_set_mark();
	if (X509_verify(found, e->issuer_key) != 1 ||
	    X509_NAME_cmp(X509_get_issuer_name(found), e->issuer_name) != 0 ||
	    X509_NAME_cmp(X509_get_subject_name(found), e->subject) != 0 || key == NULL ||
	    EVP_PKEY_eq(key, e->subject_key) != 1 ||
	    certinfo_serial_hex(found, serial) != 0) {
		ERR_pop_to_mark();
		return cer_err(CER_E_EXISTS,
			       "%s: already exists; refusing to overwrite it: it is not the %s this "
			       "command makes (nothing was signed)",
			       path, e->what);
	}
	ERR_pop_to_mark();
	if (history_has_serial(hist, serial))
		return cer_err(CER_E_EXISTS,
			       "%s: already exists; refusing to overwrite it: the history records it "
			       "(serial %s), this %s was made already; nothing was signed or changed",
			       path, serial, e->what);
	return 0;
}

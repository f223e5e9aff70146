/* docsign: a detached CMS signature by an HSM key (see its header). */
#include <string.h>

#include <openssl/evp.h>

#include "ceremony/cms.h"
#include "ceremony/docsign.h"
#include "ceremony/err.h"
#include "ceremony/hsm.h"
#include "ceremony/hsmkey.h"
#include "ceremony/p11key.h"

int docsign_detached(struct ceremony_ctx *ctx, const char *token, const char *key, X509 *cert,
		     const char *cert_name, const uint8_t *data, size_t len, uint8_t **der,
		     size_t *der_len)
{
	struct hsm h;
	struct hsmkey *hk = NULL;
	struct p11key k;
	int r;

	*der = NULL;
	*der_len = 0;
	memset(&h, 0, sizeof(h));
	if ((r = hsm_open(ctx, token, &h)) != 0 || (r = hsm_login_user(ctx, &h)) != 0 ||
	    (r = p11key_find_signer(h.session, key, &k, NULL)) != 0 ||
	    (r = hsmkey_open(h.session, &k, &hk)) != 0)
		goto out;
	if ((r = hsmkey_cert_check(hk, cert, cert_name, "nothing signed")) != 0)
		goto out;
	r = cms_sign_detached(hsmkey_pkey(hk), cert, data, len, der, der_len);
out:
	hsm_session_end(&h);
	hsmkey_free(hk);
	hsm_close(&h);
	return r;
}

#include <string.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include "ceremony/cardsign.h"
#include "p11_int.h"
#include "ceremony/err.h"
#include "ceremony/sizes.h"

int cardsign_p256(struct p11_session *s, const struct p11key *k, const uint8_t md[SHA256_LEN],
		  uint8_t *der, size_t *der_len)
{
	CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
	CK_BYTE raw[64];
	CK_ULONG raw_len = sizeof(raw);
	ECDSA_SIG *sig = NULL;
	BIGNUM *r_bn = NULL, *s_bn = NULL;
	unsigned char *p = der;
	int len, r;
	CK_RV rv;

	if (k->type != KEY_EC_P256)
		return cer_err(CER_E_REFUSED, "card \"%s\": key \"%s\" is %s, not ec-p256",
			       s->token.label, k->label, key_type_name(k->type));
	if ((rv = s->f->C_SignInit(s->handle, &mech, k->priv)) != CKR_OK)
		return p11_err(rv, "card \"%s\": key \"%s\": C_SignInit", s->token.label, k->label);
	/* PKCS#11 3.0 2.3.6: CKM_ECDSA signs the digest as given; r||s, each 32 bytes. */
	rv = s->f->C_Sign(s->handle, (CK_BYTE_PTR)md, 32, raw, &raw_len);
	if (rv != CKR_OK)
		return p11_err(rv, "card \"%s\": key \"%s\": C_Sign", s->token.label, k->label);
	if (raw_len != sizeof(raw))
		return cer_err(CER_E_P11, "card \"%s\": a P-256 signature of %lu bytes",
			       s->token.label, (unsigned long)raw_len);
	sig = ECDSA_SIG_new();
	r_bn = BN_bin2bn(raw, 32, NULL);
	s_bn = BN_bin2bn(raw + 32, 32, NULL);
	if (sig == NULL || r_bn == NULL || s_bn == NULL || !ECDSA_SIG_set0(sig, r_bn, s_bn)) {
		BN_free(r_bn);
		BN_free(s_bn);
		r = cer_err(CER_E_NOMEM, "out of memory");
		goto out;
	}
	len = i2d_ECDSA_SIG(sig, NULL);
	if (len <= 0 || (size_t)len > *der_len || i2d_ECDSA_SIG(sig, &p) != len) {
		r = cer_err(CER_E_CRYPTO, "cannot encode the card's signature");
		goto out;
	}
	*der_len = (size_t)len;
	r = 0;
out:
	ECDSA_SIG_free(sig);
	return r;
}

/* serials: fresh certificate serial numbers (see include/ceremony/serials.h). */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>

#include "ceremony/err.h"
#include "ceremony/serials.h"

int serials_hex(const uint8_t rnd[CERTBUILD_SERIAL_LEN], char out[SERIAL_HEX_SIZE])
{
	ASN1_INTEGER *serial = NULL;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int r;

	if ((r = certbuild_serial(rnd, &serial)) != 0)
		return r;
	if ((bn = ASN1_INTEGER_to_BN(serial, NULL)) == NULL || (hex = BN_bn2hex(bn)) == NULL ||
	    strlen(hex) >= SERIAL_HEX_SIZE)
		r = cer_err_ssl(CER_E_CRYPTO, "cannot make a serial number");
	else
		memcpy(out, hex, strlen(hex) + 1);
	OPENSSL_free(hex);
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	return r;
}

int serials_next(struct p11_session *s, const struct history *hist, struct serials_draw *d,
		 uint8_t rnd[CERTBUILD_SERIAL_LEN], char hex[SERIAL_HEX_SIZE])
{
	int r;

	for (int tries = 0; tries < SERIALS_TRIES; tries++) {
		if (d->left == 0) {
			if ((r = p11_random_mixed(s, d->buf, sizeof(d->buf))) != 0)
				return r;
			d->left = SERIALS_PER_DRAW;
			d->pos = 0;
		}
		memcpy(rnd, d->buf + d->pos * CERTBUILD_SERIAL_LEN, CERTBUILD_SERIAL_LEN);
		OPENSSL_cleanse(d->buf + d->pos * CERTBUILD_SERIAL_LEN, CERTBUILD_SERIAL_LEN);
		d->pos++;
		d->left--;
		if ((r = serials_hex(rnd, hex)) != 0)
			return r;
		if (!history_has_serial(hist, hex))
			return 0;
	}
	return cer_err(CER_E_REFUSED, "%d fresh serials all collided with the history: the "
				      "random number generator is broken; nothing was signed",
		       SERIALS_TRIES);
}

void serials_draw_end(struct serials_draw *d)
{
	OPENSSL_cleanse(d, sizeof(*d));
}

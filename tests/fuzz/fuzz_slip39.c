/* Fuzz harness: SLIP-39 mnemonics and packed shares (formats we own). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ceremony/slip39.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int r = 0; /* results are ignored: refusing bad input is the expected outcome */
	struct slip39_share *share;
	char *text;

	if (sodium_init() < 0)
		return 0;
	share = sodium_malloc(sizeof(*share));
	text = malloc(size + 1);
	if (share != NULL && text != NULL) {
		memcpy(text, data, size);
		text[size] = '\0';
		r |= slip39_share_decode(text, strlen(text), share);
		r |= slip39_share_unpack(data, size, share);
	}
	free(text);
	sodium_free(share);
	(void)r;
	return 0;
}

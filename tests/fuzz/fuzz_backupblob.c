/* Fuzz harness: the backup blob parser (a format we own, read through bufread). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ceremony/backupblob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int r = 0; /* results are ignored: refusing bad input is the expected outcome */
	struct backupblob *b = malloc(sizeof(*b));

	if (b != NULL)
		r |= backupblob_parse(data, size, "fuzz", b);
	free(b);
	(void)r;
	return 0;
}

/* Fuzz harness: YAML (profiles, scripts, answers) into jansson, and sealed-share headers. */
#include <stddef.h>
#include <stdint.h>

#include "ceremony/seal.h"
#include "ceremony/yamljson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int r = 0; /* results are ignored: refusing bad input is the expected outcome */
	json_t *doc = NULL;
	const uint8_t *meta;
	size_t meta_len;
	struct seal_limits lim;

	if (yamljson_parse("fuzz", data, size, &doc) == 0)
		json_decref(doc);
	r |= seal_peek_meta(data, size, &meta, &meta_len);
	r |= seal_peek_limits(data, size, &lim);
	(void)r;
	return 0;
}

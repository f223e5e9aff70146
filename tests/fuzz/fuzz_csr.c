/* Fuzz harness: the real CSR parser and every check (STYLE.md 15). */
#include <stddef.h>
#include <stdint.h>

#include "ceremony/csr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int r = 0; /* results are ignored: refusing bad input is the expected outcome */
	struct csr_policy policy = {0};
	struct csr_report report;
	struct csr *c = NULL;

	if (csr_parse(data, size, "fuzz", &c) == 0) {
		r |= csr_check(c, &policy, &report);
		csr_free(c);
	}
	(void)r;
	return 0;
}

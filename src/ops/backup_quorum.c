/* backup: the quorum's approval of a backup operation (see backup_int.h). */
#include <string.h>

#include "backup_int.h"
#include "ceremony/approve.h"
#include "ceremony/err.h"
#include "ceremony/sizes.h"

int backup_quorum(struct ceremony_ctx *ctx, struct transcript *tr, enum quorum_op op,
		  const uint8_t blob_sha256[SHA256_LEN], const char *what,
		  const struct approve_opts *ao, FILE *out, json_t **approval)
{
	struct approve_item item;
	struct approve_request rq;
	int approved = 0;

	*approval = NULL;
	memset(&item, 0, sizeof(item));
	memcpy(item.tbs_sha256, blob_sha256, SHA256_LEN);
	if (snprintf(item.what, sizeof(item.what), "%s", what) >= (int)sizeof(item.what))
		item.what[sizeof(item.what) - 1] = '\0';
	memset(&rq, 0, sizeof(rq));
	rq.op = op;
	rq.n_items = 1;
	rq.items = &item;
	rq.defer = approval;
	return approve_collect(ctx, tr, &rq, ao, out, &approved);
}

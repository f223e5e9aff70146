/*
 * kit — the recovery kit: what a backup site needs when the primary site is gone.
 *
 * Owns: `backup kit`: checking, before any PIN is asked, that the blob given is
 * the current one (recorded by the history, not superseded) with its internal
 * record, that the whole history verifies under the root certificate, and that
 * the toolkit (the tool's source archive, its SHA-256, the Debian package
 * versions it was built with, the guides as HTML) is complete; then writing
 * all of it to a new folder with KIT.json and README.txt, and a MANIFEST.sha256
 * signed by the HSM key (MANIFEST.sha256.sig, CMS). The folder appears whole or
 * not at all. Does not own: checking a kit (kit_verify), the blob (backup).
 */
#ifndef CEREMONY_KIT_H
#define CEREMONY_KIT_H

#include <stdio.h>

#include "ceremony/context.h"
#include "ceremony/kit_verify.h"

struct kit_params {
	const char *out_dir;         /* must not exist */
	const char *blob;            /* the current backup blob */
	const char *internal_record; /* its internal record (k, n, cards) */
	const char *root;            /* root.pem */
	const char *history;         /* the transcripts folder */
	const char *site_config;     /* ceremony.yaml (NULL: --config, else ./ceremony.yaml) */
	const char *toolkit;         /* made by `make toolkit` */
	const char *token, *key, *cert; /* the key that signs the manifest, and its certificate */
};

int kit_make(struct ceremony_ctx *ctx, const struct kit_params *p, FILE *out)
	__attribute__((warn_unused_result));

#endif

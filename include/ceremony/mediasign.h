/*
 * mediasign — the medium's MANIFEST.sha256 of what this ceremony wrote, signed by
 * the ceremony-signing key (docs/seal.md, "The medium's manifest").
 *
 * Owns: which files the manifest lists (those differing from the transcript's
 * media.manifest record) and refusing a manifest the tool did not build. Does
 * not own: hashing a folder (media), the signature (docsign, cms).
 */
#ifndef CEREMONY_MEDIASIGN_H
#define CEREMONY_MEDIASIGN_H

#include <stdio.h>

#include "ceremony/context.h"

/*
 * MEDIUM/MANIFEST.sha256 (+ .sig): the files this ceremony wrote to the medium (those
 * differing from the transcript's media.manifest record of it), the text built by the
 * tool now and signed by the ceremony-signing key. A MANIFEST.sha256 already there is
 * signed only if it is byte for byte that text; anything else is refused.
 */
int mediasign_medium(struct ceremony_ctx *ctx, const char *token, const char *key,
		     const char *cert_path, const char *medium, FILE *out)
	__attribute__((warn_unused_result));

#endif

/*
 * slip39_io — `share split` and `share combine` as streams: a hex secret from a
 * source into mnemonics on a file descriptor, mnemonics from one into the hex secret.
 *
 * Owns: reading the secret and the passphrase from their sources (file:PATH) into
 * secure memory, writing the mnemonics one per line (groups apart by a blank line),
 * reading mnemonics one per line, writing the secret as lowercase hex. Secrets and
 * words pass only through secure memory and write(2), never stdio's buffers. Does not
 * own: SLIP-39 itself (slip39), option parsing (cmd_share).
 */
#ifndef CEREMONY_SLIP39_IO_H
#define CEREMONY_SLIP39_IO_H

#include <stdio.h>

#include "ceremony/slip39.h"

/* Mnemonics read at most: every share a combine can use, with room for spacing and comments. */
#define SLIP39_IO_INPUT_MAX (SLIP39_MAX_SHARES * (SLIP39_MNEMONIC_MAX + 64))

/*
 * Split the hex secret in secret_source under p (passphrase from passphrase_source,
 * NULL: empty) and write the mnemonics to out_fd; a summary line (identifier,
 * thresholds, no share) to summary.
 */
int slip39_io_split(const char *secret_source, const char *passphrase_source,
		    const struct slip39_split_params *p, int out_fd, FILE *summary)
	__attribute__((warn_unused_result));

/* Read mnemonics from in_fd (blank lines ignored), write the secret in hex to out_fd. */
int slip39_io_combine(const char *passphrase_source, int in_fd, int out_fd)
	__attribute__((warn_unused_result));

#endif

/*
 * report — the disclosure answers of draft-richardson-t2trg-manufacturer-keys-taxonomy
 * §6.2 for this PKI, from its transcripts.
 *
 * Owns: pkilevel, each subordinate CA's life, how the root key is stored, the
 * spare shares n - k, and what is recorded about recovery without travel.
 * Never prints k, n or anyone's name: it reads only the public fields of
 * backup records, and never a witness's or holder's name. Does not own:
 * verifying the transcripts (audit).
 */
#ifndef CEREMONY_REPORT_H
#define CEREMONY_REPORT_H

#include <stdio.h>

int report_print(const char *dir, FILE *out) __attribute__((warn_unused_result));

#endif

/*
 * commands — the command groups main dispatches to (one src/cmd_*.c each).
 *
 * Each parses its own options and calls modules; none holds crypto, PKCS#11
 * or file-format code.
 */
#ifndef CEREMONY_COMMANDS_H
#define CEREMONY_COMMANDS_H

#include "ceremony/cli.h"

int cmd_run(struct ceremony_ctx *ctx, int argc, char **argv);
int cmd_script(struct ceremony_ctx *ctx, int argc, char **argv);
int cmd_media(struct ceremony_ctx *ctx, int argc, char **argv);
int cmd_token(struct ceremony_ctx *ctx, int argc, char **argv);
int cmd_key(struct ceremony_ctx *ctx, int argc, char **argv);
int cmd_cert(struct ceremony_ctx *ctx, int argc, char **argv);
int cmd_cert_cross(struct ceremony_ctx *ctx, int argc, char **argv);
int cmd_crl(struct ceremony_ctx *ctx, int argc, char **argv);
int cmd_transcript(struct ceremony_ctx *ctx, int argc, char **argv);
int cmd_share(struct ceremony_ctx *ctx, int argc, char **argv);
int cmd_backup(struct ceremony_ctx *ctx, int argc, char **argv);
int cmd_backup_kit(struct ceremony_ctx *ctx, int argc, char **argv);
int cmd_card(struct ceremony_ctx *ctx, int argc, char **argv);
int cmd_csr(struct ceremony_ctx *ctx, int argc, char **argv);
int cmd_witness(struct ceremony_ctx *ctx, int argc, char **argv);
int cmd_audit(struct ceremony_ctx *ctx, int argc, char **argv);
int cmd_report(struct ceremony_ctx *ctx, int argc, char **argv);
int cmd_quorum(struct ceremony_ctx *ctx, int argc, char **argv);

/* Each group's verbs, with their option tables. */
extern const struct cli_command cmd_crl_verbs[];
extern const struct cli_command cmd_cert_verbs[];
extern const struct cli_spec cmd_cert_cross_spec;
extern const struct cli_command cmd_backup_verbs[];
extern const struct cli_spec cmd_backup_kit_spec;
extern const struct cli_command cmd_backup_kit_verbs[];
extern const struct cli_command cmd_share_verbs[];
extern const struct cli_command cmd_quorum_verbs[];
extern const struct cli_command cmd_transcript_verbs[];
extern const struct cli_command cmd_token_verbs[];
extern const struct cli_command cmd_card_verbs[];
extern const struct cli_command cmd_key_verbs[];
extern const struct cli_command cmd_csr_verbs[];
extern const struct cli_command cmd_script_verbs[];
extern const struct cli_spec cmd_audit_spec;
extern const struct cli_spec cmd_report_spec;
extern const struct cli_spec cmd_run_spec;
extern const struct cli_command cmd_witness_verbs[];
extern const struct cli_command cmd_media_verbs[];

/* Every group, in the order ceremony --help lists them (groups.c); ceremony's own options. */
extern const struct cli_command cli_groups[];
extern const struct cli_spec cli_main_spec;

#endif

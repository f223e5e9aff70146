/*
 * script — ceremony scripts (YAML): acts of steps, each done by a role.
 *
 * Owns: loading and validating a script (every role a step names is declared,
 * every ${variable} resolves, no PIN or passphrase anywhere in it), and
 * expanding a step's command line. A step has a role, text to read aloud, and
 * a confirmation, a `ceremony` command, or both (the command runs, then the
 * role confirms, e.g. "compare the fingerprint aloud"). Does not own: running
 * (runner), the answers file (runner).
 *
 * Format (docs/scripts.md):
 *   ceremony: root-key-generation          # id, recorded
 *   title: ACME Devices Root CA 2026 — root key generation
 *   vars: {root_token: root-hsm, ...}      # defaults; ceremony.yaml overrides none
 *   roles: {CA: Ceremony Administrator, IW: Internal Witness, ...}
 *   media: ${media}                        # optional: manifest this folder
 *   seal: {role: CA, token: .., key: .., cert: ..}  # optional: seal at the end
 *   acts:
 *     - title: Equipment
 *       steps:
 *         - role: IW
 *           say: Confirm the tamper-evident bag number matches the log
 *           confirm: Does the bag number match?
 *         - role: CA
 *           say: Generate the root key
 *           run: [key, generate, --token, "${root_token}", ...]
 *           so_pin: SO                     # whose SO PIN the command uses
 *           secret_lists: {--card-pin-sources: [KE1.pin, KE2.pin]}
 *   after_seal:                            # steps after the seal (countersigning)
 *
 * Confidential lists (issue 11.5: the number of Key Executives is n): a step with
 * `each: key_executives` runs once per entry of that ceremony.yaml list
 * ("KE1=card-1, KE2=card-2, ..."), with ${each.role} and ${each.card}; its records
 * go to the ceremony's confidential annex (a transcript in the script's `annex:`
 * folder), never to the public transcript, which records the step once and, at the
 * end, the annex's SHA-256 (annex.commit). ${LIST.cards} is the list's cards,
 * comma-separated; secret_lists: {--card-pin-sources: LIST.pin} one source per entry.
 * A step with `annex: true` also records in the annex (its records would count cards).
 */
#ifndef CEREMONY_SCRIPT_H
#define CEREMONY_SCRIPT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ceremony/sizes.h"

#define SCRIPT_MAX_BYTES (256 * 1024)
#define SCRIPT_MAX_STEPS 256
#define SCRIPT_MAX_ARGS 64
#define SCRIPT_MAX_ROLES 32
#define SCRIPT_MAX_VARS 64
#define SCRIPT_MAX_LISTS 4
#define SCRIPT_ARG_MAX 1024
#define SCRIPT_MAX_REQUESTS 256

/*
 * A request the script pins (issue 16): the CSR file, the profile it is signed
 * under, its SubjectPublicKeyInfo's SHA-256 (hex) and its subject ("/C=../CN=..").
 * Unexpanded (${name} allowed); the runner passes them to "cert sign" as
 * --expect-spki / --expect-subject, so the file on the day must be exactly this.
 */
struct script_request {
	const char *file, *profile, *spki_sha256, *subject;
};
#define SCRIPT_MAX_ENTRIES 32 /* entries of a confidential list */
#define SCRIPT_EACH_ROLE "${each.role}"

struct script_step {
	int act;    /* 1-based */
	int number; /* 1-based, over the whole ceremony */
	char id[16]; /* "2.4": act.step-in-act, the id records use */
	const char *act_title;
	const char *role;
	const char *say;
	const char *confirm; /* NULL: no confirmation */
	int n_args;          /* 0: no command */
	const char *args[SCRIPT_MAX_ARGS]; /* unexpanded */
	const char *pin_role;              /* whose user PIN (default: the step's role) */
	const char *so_pin_role;           /* whose SO PIN, if the command needs one */
	int n_lists;
	const char *list_option[SCRIPT_MAX_LISTS];
	json_t *list_refs[SCRIPT_MAX_LISTS]; /* ["KE1.pin", ...], or "LIST.pin": one per entry */
	int after_seal;
	int index;        /* in script.steps */
	const char *each; /* NULL, or the ceremony.yaml list the step runs once per entry of */
	int annex;        /* its records go to the confidential annex (each implies it) */
};

/* One entry of a confidential list: who (a role not declared in the script) and the card. */
struct script_entry {
	char role[32];
	char card[128];
};

struct script {
	char path[PATH_MAX];
	uint8_t sha256[SHA256_LEN];
	json_t *doc;
	const char *id;
	const char *title;
	const char *media;       /* unexpanded; NULL if none */
	json_t *seal;            /* {role, token, key, cert} or NULL */
	int n_roles;
	const char *roles[SCRIPT_MAX_ROLES];
	const char *role_titles[SCRIPT_MAX_ROLES];
	int n_vars;
	const char *var_names[SCRIPT_MAX_VARS];
	const char *var_values[SCRIPT_MAX_VARS];
	int n_steps;
	struct script_step steps[SCRIPT_MAX_STEPS];
	int n_acts;
	int n_requests;
	struct script_request requests[SCRIPT_MAX_REQUESTS];
	const char *annex_dir; /* unexpanded folder of the confidential annex; NULL if none */
	json_t *derived;       /* computed ${LIST.cards} values */
};

struct config;

/* Load and check; config supplies variables too (the script's own vars win only if set). */
int script_load(const char *path, const struct config *cfg, struct script **out)
	__attribute__((warn_unused_result));
void script_free(struct script *s);

/* Expand ${name} from the script's vars, then the configuration, then extra. */
int script_expand(const struct script *s, const struct config *cfg, const char *const *extra_names,
		  const char *const *extra_values, int n_extra, const char *in, char *out,
		  size_t size) __attribute__((warn_unused_result));

/* The script as a printable HTML checklist: numbered steps, role, text, a box, an initials line. */
int script_print_html(const struct script *s, const struct config *cfg, FILE *f)
	__attribute__((warn_unused_result));

/*
 * The option of opts (each "--name") that arg abbreviates ("--thres" or "--thres=3" for
 * "--threshold"): a proper prefix of it that is not itself one of opts. NULL if none.
 * Abbreviations are refused, so no filter that matches whole names can be bypassed.
 */
const char *script_option_abbreviated(const char *arg, const char *const *opts, size_t n);
const char *script_role_title(const struct script *s, const char *role);

/* Options whose values are confidential (k, n, the cards and their holders: taxonomy draft
 * 5.3.1): never shown in a public record, dry run or printed checklist. */
#define SCRIPT_N_CONFIDENTIAL 6
extern const char *const script_confidential_options[SCRIPT_N_CONFIDENTIAL];
int script_option_confidential(const char *opt);

/* The entries of the confidential list NAME of ceremony.yaml ("KE1=card-1, KE2=card-2"): each
 * role a plain name (declared in the script or not: the public record names only the
 * declared ones), each card a label, none twice; at most max. */
int script_list(const struct script *s, const struct config *cfg, const char *name,
		struct script_entry *out, int max, int *n) __attribute__((warn_unused_result));
/* The steps the public transcript counts: a step run once per entry counts once. */
int script_public_steps(const struct script *s);

#endif

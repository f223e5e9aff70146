/*
 * context — what one run of the tool was told: options and environment.
 *
 * Owns: struct ceremony_ctx (filled by main and the CLI, passed down to every
 * operation; no global state), the environment variables the tool honours
 * (read once, in main: ctx_read_env), the site configuration (loaded on first
 * use) and the module path. Does not own: parsing argv (cli), transcripts
 * (ctx_transcript).
 */
#ifndef CEREMONY_CONTEXT_H
#define CEREMONY_CONTEXT_H

struct config;

struct ceremony_ctx {
	const char *module_path;     /* --module */
	const char *config_path;     /* --config */
	const char *transcript_path; /* --transcript */
	const char *pin_source;      /* --pin-source: the user PIN */
	const char *so_pin_source;   /* --so-pin-source: the security officer PIN */
	const char *ceremony_id;     /* --ceremony: names the ceremony in new transcripts */
	const char *previous_path;   /* --previous: the last ceremony's sealed transcript */
	int allow_network;           /* --allow-network (recorded) */
	/* From the environment, read once by ctx_read_env. */
	const char *env_module;      /* CEREMONY_MODULE */
	int env_allow_network;       /* CEREMONY_ALLOW_NETWORK=1 (recorded) */
	/* Set by `ceremony run` for its steps, so a PIN prompt names whose turn it is and
	 * what for (CEREMONY_PROMPT_USER, CEREMONY_PROMPT_SO, CEREMONY_PROMPT_PURPOSE). */
	const char *env_prompt_user, *env_prompt_so, *env_prompt_purpose;
	int env_test_argon2_set;     /* CEREMONY_TEST_ARGON2 is set: refused (no longer read) */
	int env_notes_fd; /* CEREMONY_NOTES_FD: where `ceremony run` collects retyped entries; -1 */
	int airgap_warned;           /* the override warning was printed by this process */
	struct config *config;       /* loaded on first use */
};

/* Fill the env_* fields from the process environment (main calls it once). */
void ctx_read_env(struct ceremony_ctx *ctx);

#define CTX_PROMPT_MAX 320
/* A PIN prompt's text: what, preceded by the role whose PIN it is (so: the SO's) and the
 * purpose when `ceremony run` gave them: "CA (Ceremony Administrator), step 3.3: user PIN
 * for token "root-hsm"". Never fails: cut at size. */
void ctx_prompt(const struct ceremony_ctx *ctx, int so, const char *what, char *out,
		size_t size);

/* The site configuration (--config, else ./ceremony.yaml if present; *out NULL if none). */
int ctx_config(struct ceremony_ctx *ctx, const struct config **out) __attribute__((warn_unused_result));

/* The site configuration's key for the backup's Argon2id cost: "production" (the default)
 * or "test" (1 pass, 8 KiB: scripted test and demo runs; loud and recorded). */
#define CTX_ARGON2_COST_KEY "argon2_cost"
#define CTX_ARGON2_COST_CAUSE "ceremony.yaml argon2_cost: test"
/* *test: the configuration says "argon2_cost: test"; any value but production/test fails. */
int ctx_argon2_test(struct ceremony_ctx *ctx, int *test) __attribute__((warn_unused_result));

/* The module path: --module, else CEREMONY_MODULE, else the configuration's module. */
int ctx_module_path(struct ceremony_ctx *ctx, const char **out) __attribute__((warn_unused_result));

#endif

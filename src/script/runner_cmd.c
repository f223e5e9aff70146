/* runner: building a step's command line and running it as a child process. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ceremony/config.h"
#include "ceremony/err.h"
#include "ceremony/textbuf.h"
#include "runner_int.h"

/* k, n and the card holders are confidential: script_confidential_options (script.h). */
#define confidential_options script_confidential_options
#define is_confidential script_option_confidential

void runner_argv_free(char **argv, int argc)
{
	for (int i = 0; i < argc; i++)
		free(argv[i]);
}

static int push(char **argv, int *argc, json_t *display, const char *arg, const char *shown)
{
	if (*argc >= RUNNER_ARGV_MAX - 1)
		return cer_err(CER_E_INPUT, "command line too long");
	argv[*argc] = strdup(arg);
	if (argv[*argc] == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	(*argc)++;
	argv[*argc] = NULL;
	if (display != NULL && json_array_append_new(display, json_string(shown != NULL ? shown : arg)))
		return cer_err(CER_E_NOMEM, "out of memory");
	return 0;
}

/* --pin-source etc. from the answers; in interactive runs the child asks itself. */
static int push_secret(struct runner *rn, char **argv, int *argc, json_t *display,
		       const char *option, const char *role, const char *what)
{
	const char *src = runner_secret_source(rn, role, what);
	char shown[96], both[4200];
	int r;

	if (src == NULL)
		return 0;
	if ((r = text_format(shown, sizeof(shown), "the shown option", "%s=<%s %s>", option, role,
			     what)) != 0)
		return r;
	if (snprintf(both, sizeof(both), "%s=%s", option, src) >= (int)sizeof(both))
		return cer_err(CER_E_INPUT, "%s: source path too long", role);
	return push(argv, argc, display, both, shown);
}

static int push_list(struct runner *rn, const struct script_step *st, int i, char **argv,
		     int *argc, json_t *display)
{
	char value[8192] = "", shown[512];
	size_t used = 0, k;
	json_t *ref, *refs = st->list_refs[i], *built = NULL;

	if (json_is_string(refs)) { /* "LIST.pin": one per entry of the confidential list */
		struct script_entry e[SCRIPT_MAX_ENTRIES];
		const char *v = json_string_value(refs), *dot = strrchr(v, '.');
		char list[128];
		int n, r;
		if ((size_t)(dot - v) >= sizeof(list))
			return cer_err(CER_E_INPUT, "step %s: %s: list name too long", st->id, v);
		memcpy(list, v, (size_t)(dot - v));
		list[dot - v] = '\0';
		if ((r = script_list(rn->script, rn->ctx->config, list, e, SCRIPT_MAX_ENTRIES, &n)) != 0)
			return r;
		if ((built = json_array()) == NULL)
			return cer_err(CER_E_NOMEM, "out of memory");
		for (int j = 0; j < n; j++) {
			char ref1[64];
			if (snprintf(ref1, sizeof(ref1), "%s%s", e[j].role, dot) >= (int)sizeof(ref1) ||
			    json_array_append_new(built, json_string(ref1)) != 0) {
				json_decref(built);
				return cer_err(CER_E_NOMEM, "out of memory");
			}
		}
		refs = built;
	}
	json_array_foreach(refs, k, ref)
	{
		const char *v = json_string_value(ref), *dot = strchr(v, '.');
		char role[64];
		const char *src;
		memcpy(role, v, (size_t)(dot - v));
		role[dot - v] = '\0';
		src = runner_secret_source(rn, role, dot + 1);
		if (src == NULL) {
			json_decref(built);
			return 0; /* interactive: the command asks card by card */
		}
		if (strchr(src, ',') != NULL) {
			json_decref(built);
			return cer_err(CER_E_INPUT, "%s: a source path may not contain a comma", v);
		}
		int n = snprintf(value + used, sizeof(value) - used, "%s%s", k > 0 ? "," : "", src);
		if (n < 0 || (size_t)n >= sizeof(value) - used) {
			json_decref(built);
			return cer_err(CER_E_INPUT, "step %s: %s too long", st->id, st->list_option[i]);
		}
		used += (size_t)n;
	}
	json_decref(built);
	/* No count: the number of per-card sources is the number of cards, n (issue 11.5). */
	int r = text_copy(shown, sizeof(shown), "the shown option", "<confidential>");
	if (r == 0)
		r = push(argv, argc, display, st->list_option[i], NULL);
	return r != 0 ? r : push(argv, argc, display, value, shown);
}

int runner_argv_raw(struct runner *rn, const char *const *args, int n_args, const char *pin_role,
		    const char *so_pin_role, char **argv, int *argc, json_t **display)
{
	const struct config *cfg = rn->ctx->config;
	const char *xn[3 + SCRIPT_MAX_ROLES], *xv[3 + SCRIPT_MAX_ROLES];
	char names[SCRIPT_MAX_ROLES][80], values[SCRIPT_MAX_ROLES][RUNNER_ANSWER_MAX + 16];
	char buf[SCRIPT_ARG_MAX];
	int nx = 1;
	json_t *shown = json_array();
	int r = 0, hide_next = 0;

	*argc = 0;
	argv[0] = NULL;
	*display = NULL;
	if (shown == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	/* ${transcript}, and ${name.ROLE}: who fills the role (a placeholder until known). */
	xn[0] = "transcript";
	xv[0] = rn->transcript;
	for (int i = 0; i < rn->script->n_roles; i++, nx++) {
		const char *who = json_string_value(json_object_get(rn->names, rn->script->roles[i]));
		if ((r = text_format(names[i], sizeof(names[i]), "a role's variable", "name.%s",
				     rn->script->roles[i])) != 0 ||
		    (r = text_format(values[i], sizeof(values[i]), "a role's name",
				     who != NULL ? "%s" : "<name of %s>",
				     who != NULL ? who : rn->script->roles[i])) != 0)
			goto fail;
		xn[nx] = names[i];
		xv[nx] = values[i];
	}
	if (rn->each_role != NULL) { /* a step run once per entry of a confidential list */
		xn[nx] = "each.role";
		xv[nx++] = rn->each_role;
		xn[nx] = "each.card";
		xv[nx++] = rn->each_card;
	}
	if ((r = push(argv, argc, NULL, rn->o->self, NULL)) != 0)
		goto fail;
	if (rn->ctx->config_path != NULL &&
	    ((r = push(argv, argc, NULL, "--config", NULL)) != 0 ||
	     (r = push(argv, argc, NULL, rn->ctx->config_path, NULL)) != 0))
		goto fail;
	if (rn->ctx->module_path != NULL &&
	    ((r = push(argv, argc, NULL, "--module", NULL)) != 0 ||
	     (r = push(argv, argc, NULL, rn->ctx->module_path, NULL)) != 0))
		goto fail;
	for (int i = 0; i < n_args; i++) {
		char hidden[64];
		const char *eq;
		if ((r = script_expand(rn->script, cfg, xn, xv, nx, args[i], buf, sizeof(buf))) != 0)
			goto fail;
		if (!hide_next && script_option_abbreviated(buf, confidential_options,
							    SCRIPT_N_CONFIDENTIAL) !=
					  NULL) {
			r = cer_err(CER_E_REFUSED, "%s: \"%.*s\" abbreviates a confidential option; "
						   "options are never abbreviated; nothing was run or "
						   "recorded",
				    rn->script->path, (int)strcspn(buf, "="), buf);
			goto fail;
		}
		eq = strchr(buf, '=');
		hidden[0] = '\0';
		if (hide_next)
			r = text_copy(hidden, sizeof(hidden), "the shown argument",
				      "<confidential>");
		else if (buf[0] == '-' && eq != NULL && (size_t)(eq - buf) < 32) {
			char opt[32];
			memcpy(opt, buf, (size_t)(eq - buf));
			opt[eq - buf] = '\0';
			if (is_confidential(opt))
				r = text_format(hidden, sizeof(hidden), "the shown argument",
						"%s=<confidential>", opt);
		}
		if (r != 0 || (r = push(argv, argc, shown, buf, hidden[0] ? hidden : NULL)) != 0)
			goto fail;
		hide_next = is_confidential(buf);
	}
	if ((r = push(argv, argc, shown, "--transcript", NULL)) != 0 ||
	    (r = push(argv, argc, shown, rn->transcript, NULL)) != 0 ||
	    (r = push_secret(rn, argv, argc, shown, "--pin-source", pin_role, "pin")) != 0 ||
	    (so_pin_role != NULL &&
	     (r = push_secret(rn, argv, argc, shown, "--so-pin-source", so_pin_role, "so_pin")) != 0))
		goto fail;
	*display = shown;
	return 0;
fail:
	runner_argv_free(argv, *argc);
	*argc = 0;
	json_decref(shown);
	return r;
}

/* The value after option in argv, or NULL. */
static const char *argv_value(char **argv, int argc, const char *option)
{
	for (int i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], option) == 0)
			return argv[i + 1];
	return NULL;
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}

/* Is file the request csr, or a request in folder dir? */
static int request_in_step(const char *file, const char *csr, const char *dir)
{
	size_t n;

	if (csr != NULL)
		return strcmp(file, csr) == 0;
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(file, dir, n) == 0 && file[n] == '/' && strchr(file + n + 1, '/') == NULL;
}

/*
 * Issue 16: a "cert sign" step gets --expect-spki/--expect-subject for every
 * request the script pins among the ones it signs; a script that pins requests
 * refuses a step that signs one it does not pin, or under another profile.
 */
static int push_pins(struct runner *rn, const struct script_step *st, char **argv, int *argc,
		     json_t *display)
{
	const struct script *s = rn->script;
	const char *csr, *dir, *profile;
	char file[SCRIPT_ARG_MAX], prof[SCRIPT_ARG_MAX], spki[SCRIPT_ARG_MAX], subj[SCRIPT_ARG_MAX];
	char arg[SCRIPT_ARG_MAX + NAME_MAX + 2];
	int matched = 0, r;

	if (s->n_requests == 0 || st->n_args < 2 || strcmp(st->args[0], "cert") != 0 ||
	    strcmp(st->args[1], "sign") != 0)
		return 0;
	csr = argv_value(argv, *argc, "--csr");
	dir = argv_value(argv, *argc, "--csr-dir");
	profile = argv_value(argv, *argc, "--profile");
	if ((csr == NULL && dir == NULL) || profile == NULL)
		return 0; /* cert sign itself says what is missing */
	for (int i = 0; i < s->n_requests; i++) {
		const struct script_request *q = &s->requests[i];
		if ((r = script_expand(s, rn->ctx->config, NULL, NULL, 0, q->file, file, sizeof(file))) != 0 ||
		    (r = script_expand(s, rn->ctx->config, NULL, NULL, 0, q->profile, prof, sizeof(prof))) != 0 ||
		    (r = script_expand(s, rn->ctx->config, NULL, NULL, 0, q->spki_sha256, spki, sizeof(spki))) != 0 ||
		    (r = script_expand(s, rn->ctx->config, NULL, NULL, 0, q->subject, subj, sizeof(subj))) != 0)
			return r;
		if (!request_in_step(file, csr, dir))
			continue;
		if (strcmp(prof, profile) != 0)
			return cer_err(CER_E_REFUSED,
				       "%s: step %d signs %s under %s, but the script pins it under %s; "
				       "nothing was run",
				       s->path, st->number, file, profile, prof);
		if (snprintf(arg, sizeof(arg), "%s:%s", base_of(file), spki) >= (int)sizeof(arg) ||
		    (r = push(argv, argc, display, "--expect-spki", NULL)) != 0 ||
		    (r = push(argv, argc, display, arg, NULL)) != 0 ||
		    snprintf(arg, sizeof(arg), "%s:%s", base_of(file), subj) >= (int)sizeof(arg) ||
		    (r = push(argv, argc, display, "--expect-subject", NULL)) != 0 ||
		    (r = push(argv, argc, display, arg, NULL)) != 0)
			return r != 0 ? r : cer_err(CER_E_INPUT, "%s: a pinned value is too long", s->path);
		matched++;
	}
	if (matched == 0)
		return cer_err(CER_E_REFUSED,
			       "%s: step %d signs %s, which the script's requests do not pin; nothing "
			       "was run",
			       s->path, st->number, csr != NULL ? csr : dir);
	return 0;
}

int runner_argv(struct runner *rn, const struct script_step *st, char **argv, int *argc,
		json_t **display)
{
	int r;

	if ((r = runner_argv_raw(rn, st->args, st->n_args,
				 st->pin_role != NULL ? st->pin_role : st->role, st->so_pin_role, argv,
				 argc, display)) != 0)
		return r;
	for (int i = 0; i < st->n_lists && r == 0; i++)
		r = push_list(rn, st, i, argv, argc, *display);
	if (r == 0)
		r = push_pins(rn, st, argv, argc, *display);
	if (r != 0) {
		runner_argv_free(argv, *argc);
		json_decref(*display);
		*display = NULL;
	}
	return r;
}

static void role_text(const struct runner *rn, const char *role, char *out, size_t size)
{
	const char *title = role != NULL ? script_role_title(rn->script, role) : NULL;

	out[0] = '\0';
	if (role != NULL && snprintf(out, size, title != NULL ? "%s (%s)" : "%s", role,
				     title != NULL ? title : "") >= (int)size)
		out[size - 1] = '\0';
}

void runner_prompt_for(struct runner *rn, const char *user_role, const char *so_role,
		       const char *purpose)
{
	role_text(rn, user_role, rn->prompt_user, sizeof(rn->prompt_user));
	role_text(rn, so_role, rn->prompt_so, sizeof(rn->prompt_so));
	if (snprintf(rn->prompt_purpose, sizeof(rn->prompt_purpose), "%s",
		     purpose != NULL ? purpose : "") >= (int)sizeof(rn->prompt_purpose))
		rn->prompt_purpose[sizeof(rn->prompt_purpose) - 1] = '\0';
}

#define RUNNER_NOTES_MAX 8192

/* The child's "PROMPT<TAB>REASON" lines, into rn->notes. */
static void notes_read(struct runner *rn, int fd)
{
	char buf[RUNNER_NOTES_MAX + 1], *line, *save = NULL;
	size_t used = 0;
	ssize_t n;

	while (used < RUNNER_NOTES_MAX &&
	       ((n = read(fd, buf + used, RUNNER_NOTES_MAX - used)) > 0 || (n < 0 && errno == EINTR)))
		if (n > 0)
			used += (size_t)n;
	buf[used] = '\0';
	json_decref(rn->notes);
	rn->notes = NULL;
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		if (tab == NULL)
			continue;
		*tab = '\0';
		if (rn->notes == NULL)
			rn->notes = json_array();
		if (rn->notes != NULL)
			(void)json_array_append_new(rn->notes, json_pack("{s:s, s:s}", "what", line,
									 "reason", tab + 1));
	}
}

/* In the child: the prompt texts for ctx_prompt, and nothing inherited from elsewhere. */
static void child_prompt_env(const struct runner *rn)
{
	const char *names[] = {"CEREMONY_PROMPT_USER", "CEREMONY_PROMPT_SO",
			       "CEREMONY_PROMPT_PURPOSE"};
	const char *values[] = {rn->prompt_user, rn->prompt_so, rn->prompt_purpose};

	for (int i = 0; i < 3; i++) {
		if (values[i][0] != '\0')
			(void)setenv(names[i], values[i], 1); /* cosmetic: a plain prompt if not */
		else
			(void)unsetenv(names[i]);
	}
}

int runner_exec(struct runner *rn, char **argv, int *status)
{
	pid_t pid;
	int ws = 0;

	int notes[2];

	fflush(rn->out);
	fflush(stderr);
	if (pipe2(notes, O_CLOEXEC) != 0)
		return cer_err(CER_E_INTERNAL, "cannot make a pipe for %s: %s", argv[0],
			       strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(notes[0]);
		close(notes[1]);
		return cer_err(CER_E_INTERNAL, "cannot start %s: %s", argv[0], strerror(errno));
	}
	if (pid == 0) {
		char fd[16];
		child_prompt_env(rn);
		/* The write end survives exec, non-blocking: a note never stalls the step. */
		/* No error detail to give in the child: a number that cannot be written is
		 * treated as a descriptor that cannot be passed. */
		if (text_format_cut(fd, sizeof(fd), "%d", notes[1]) == 0 &&
		    fcntl(notes[1], F_SETFD, 0) == 0 && fcntl(notes[1], F_SETFL, O_NONBLOCK) == 0)
			(void)setenv("CEREMONY_NOTES_FD", fd, 1);
		else
			(void)unsetenv("CEREMONY_NOTES_FD");
		execv(argv[0], argv);
		fprintf(stderr, "ceremony: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(notes[1]);
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR) {
			close(notes[0]);
			return cer_err(CER_E_INTERNAL, "lost the step's process: %s", strerror(errno));
		}
	}
	notes_read(rn, notes[0]);
	close(notes[0]);
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
	return 0;
}

/* A step's say text as the people in the room see it: ${...} expanded from the
 * script's vars, ceremony.yaml and ${transcript}, so the record holds what was
 * shown (issue 10.7). */
int runner_say(struct runner *rn, const struct script_step *st, char *out, size_t size)
{
	const char *xn[] = {"transcript", "each.role", "each.card"};
	const char *xv[] = {rn->transcript, rn->each_role, rn->each_card};

	return script_expand(rn->script, rn->ctx->config, xn, xv, rn->each_role != NULL ? 3 : 1,
			     st->say, out, size);
}

/* ceremony backup create | recover | rekey */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/backup.h"
#include "ceremony/cli_split.h"
#include "ceremony/commands.h"
#include "ceremony/err.h"

static const char create_usage[] =
	"usage: ceremony backup create --token T --key L --threshold K --shares N\n"
	"         --cards URI,URI,... --out FILE.blob --internal-record FILE.json [options]\n"
	"       ceremony backup create ... --group-threshold G --group T/N [--group T/N ...]\n"
	"\nWraps the root key under a fresh KEK (HSM and libsodium RNGs hashed, secure memory only),\n"
	"imported by the security officer as a trusted session key (SO PIN, then user PIN),\n"
	"after checking the token's RFC 5649 mechanism against known answers. Splits the KEK\n"
	"into SLIP-39 shares, seals each to its Key Executive's passphrase and writes it to\n"
	"that executive's card as a private data object; reads every card back, checks every\n"
	"share against its commitment and test-combines every qualifying subset before the\n"
	"blob is written. A refusal at any point leaves no share on any card.\n"
	"The transcript records n-k and salted commitments; k, n and the card list go to\n"
	"the internal record (docs/backup.md).\n"
	"\n  --token T               the root HSM token\n"
	"  --key L                 the root key's label\n"
	"  --threshold K --shares N  one group: any K of N cards recover\n"
	"  --group-threshold G     two levels: G groups needed, each --group T/N\n"
	"  --cards LIST            card tokens (labels or pkcs11: URIs), comma-separated, one\n"
	"                          per share, in share order (group by group)\n"
	"  --holders LIST          Key Executives' names in card order (default: card labels)\n"
	"  --out FILE              the backup blob (never overwritten)\n"
	"  --internal-record FILE  the confidential record of k, n and cards (never overwritten)\n"
	"  --card-pin-sources LIST      file:PATH per card, in card order (default: asked on\n"
	"                               the terminal, naming the card)\n"
	"  --passphrase-sources LIST    file:PATH per card for the executives' new share\n"
	"                               passphrases (default: asked twice on the terminal)\n"
	"  --card-module PATH      the cards' PKCS#11 module (default: the HSM's)\n"
	"  --test-cost             seal at the TEST Argon2id cost (1 pass, 8 KiB) instead of\n"
	"                          3 passes, 256 MiB: for tests and demos only; announced,\n"
	"                          recorded, and refused by transcript verify and audit\n"
	"                          unless they are told (CEREMONY_TEST_ARGON2=1 does the same)\n"
	"Once the CA's history holds a quorum policy, the quorum approves the blob's SHA-256\n"
	"with their cards before any card is written (backup-create, backup-rekey):\n" APPROVE_HELP
	"\n" CLI_COMMON_HELP;

static const char rekey_usage[] =
	"usage: ceremony backup rekey --old-blob OLD.blob --token T --key L ... (as create)\n"
	"\nRe-wraps the root key under a fresh KEK split to a new set of cards (needs the\n"
	"root HSM and its SO and user PINs, not the old shares). The transcript marks the\n"
	"old blob superseded; wipe the old cards with \"ceremony card wipe --blob OLD\".\n"
	"Takes every option of \"backup create\" plus:\n"
	"  --old-blob FILE         the blob this backup supersedes (same root key)\n"
	"\n" CLI_COMMON_HELP;

static const char recover_usage[] =
	"usage: ceremony backup recover --token BACKUP --blob FILE --cards URI,...\n"
	"         --root root.pem [--drill] --transcript FILE [options]\n"
	"\nAt a backup site: asks each present executive for card PIN and passphrase, in card\n"
	"order, until enough valid shares are in (each is checked against its commitment as\n"
	"it is entered); combines the KEK, checks it against the blob's commitment and MAC,\n"
	"imports it, unwraps the root key with the root template (non-extractable unless\n"
	"--extractable), destroys the KEK, recreates the public key, and proves the result\n"
	"by signing a fresh challenge in the HSM verified with root.pem. Records how long\n"
	"it took. Any refusal leaves nothing on the backup token.\n"
	"\n  --token T               the backup HSM token (user PIN: --pin-source or terminal)\n"
	"  --blob FILE             the backup blob\n"
	"  --root FILE             the root certificate (PEM)\n"
	"  --cards LIST            card tokens, comma-separated, in the order they are read\n"
	"  --card-pin-sources LIST / --passphrase-sources LIST   as for create\n"
	"  --drill                 destroy the reconstituted key after the proof (recorded)\n"
	"  --extractable           keep the copy exportable under a trusted KEK\n"
	"  --challenge-out FILE    write the signed challenge\n"
	"  --signature-out FILE    write the signature (DER ECDSA / PKCS#1 v1.5)\n"
	"  --card-module PATH      the cards' PKCS#11 module (default: the HSM's)\n"
	"  --allow-superseded      recover a blob that a backup.rekey record superseded\n"
	"                          (refused otherwise; recorded)\n"
	"  --test-cost             accept shares sealed at the TEST Argon2id cost (announced)\n"
		"Once the CA's history holds a quorum policy, the quorum approves recovering from\n"
	"the blob (its SHA-256) before any card or the token is touched (backup-recover):\n"
	APPROVE_HELP "\n" CLI_COMMON_HELP;

enum {
	OPT_TOKEN = OPT_COMMON_LAST + 1,
	OPT_KEY,
	OPT_THRESHOLD,
	OPT_SHARES,
	OPT_GROUP_THRESHOLD,
	OPT_GROUP,
	OPT_CARDS,
	OPT_HOLDERS,
	OPT_OUT,
	OPT_INTERNAL,
	OPT_CARD_PINS,
	OPT_PASSPHRASES,
	OPT_CARD_MODULE,
	OPT_OLD_BLOB,
	OPT_BLOB,
	OPT_ROOT,
	OPT_DRILL,
	OPT_EXTRACTABLE,
	OPT_CHALLENGE_OUT,
	OPT_SIGNATURE_OUT,
	OPT_TEST_COST,
	OPT_ALLOW_SUPERSEDED,
};

struct backup_opts {
	struct cli_split_opts split;
	const char *token, *key, *cards, *holders, *out;
	const char *internal, *card_pins, *passphrases, *card_module, *old_blob, *blob, *root;
	const char *challenge_out, *signature_out;
	struct approve_opts approve;
	int drill, extractable, test_cost, allow_superseded;
};

static int backup_opt(void *state, int c, const char *arg)
{
	struct backup_opts *o = state;

	switch (c) {
	case OPT_TOKEN: o->token = arg; return 0;
	case OPT_KEY: o->key = arg; return 0;
	case OPT_THRESHOLD: o->split.threshold = arg; return 0;
	case OPT_SHARES: o->split.shares = arg; return 0;
	case OPT_GROUP_THRESHOLD: o->split.group_threshold = arg; return 0;
	case OPT_CARDS: o->cards = arg; return 0;
	case OPT_HOLDERS: o->holders = arg; return 0;
	case OPT_OUT: o->out = arg; return 0;
	case OPT_INTERNAL: o->internal = arg; return 0;
	case OPT_CARD_PINS: o->card_pins = arg; return 0;
	case OPT_PASSPHRASES: o->passphrases = arg; return 0;
	case OPT_CARD_MODULE: o->card_module = arg; return 0;
	case OPT_OLD_BLOB: o->old_blob = arg; return 0;
	case OPT_BLOB: o->blob = arg; return 0;
	case OPT_ROOT: o->root = arg; return 0;
	case OPT_DRILL: o->drill = 1; return 0;
	case OPT_EXTRACTABLE: o->extractable = 1; return 0;
	case OPT_CHALLENGE_OUT: o->challenge_out = arg; return 0;
	case OPT_SIGNATURE_OUT: o->signature_out = arg; return 0;
	case OPT_TEST_COST: o->test_cost = 1; return 0;
	case OPT_ALLOW_SUPERSEDED: o->allow_superseded = 1; return 0;
	case OPT_APPROVERS: o->approve.approvers = arg; return 0;
	case OPT_APPROVER_PINS: o->approve.pin_sources = arg; return 0;
	case OPT_GROUP:
		if (o->split.group_count > SLIP39_MAX_GROUPS)
			return -1;
		o->split.groups[o->split.group_count++] = arg;
		return 0;
	default: return -1;
	}
}

static const struct option backup_longopts[] = {
	{"token", required_argument, NULL, OPT_TOKEN},
	{"key", required_argument, NULL, OPT_KEY},
	{"threshold", required_argument, NULL, OPT_THRESHOLD},
	{"shares", required_argument, NULL, OPT_SHARES},
	{"group-threshold", required_argument, NULL, OPT_GROUP_THRESHOLD},
	{"group", required_argument, NULL, OPT_GROUP},
	{"cards", required_argument, NULL, OPT_CARDS},
	{"holders", required_argument, NULL, OPT_HOLDERS},
	{"out", required_argument, NULL, OPT_OUT},
	{"internal-record", required_argument, NULL, OPT_INTERNAL},
	{"card-pin-sources", required_argument, NULL, OPT_CARD_PINS},
	{"passphrase-sources", required_argument, NULL, OPT_PASSPHRASES},
	{"card-module", required_argument, NULL, OPT_CARD_MODULE},
	{"old-blob", required_argument, NULL, OPT_OLD_BLOB},
	{"blob", required_argument, NULL, OPT_BLOB},
	{"root", required_argument, NULL, OPT_ROOT},
	{"drill", no_argument, NULL, OPT_DRILL},
	{"extractable", no_argument, NULL, OPT_EXTRACTABLE},
	{"challenge-out", required_argument, NULL, OPT_CHALLENGE_OUT},
	{"signature-out", required_argument, NULL, OPT_SIGNATURE_OUT},
	{"test-cost", no_argument, NULL, OPT_TEST_COST},
	{"allow-superseded", no_argument, NULL, OPT_ALLOW_SUPERSEDED},
	APPROVE_OPTIONS,
	CLI_COMMON_OPTIONS,
	{NULL, 0, NULL, 0}};

/* Comma-separated list into items (pointing into *storage, a copy). */
struct list {
	char *storage;
	const char *items[BACKUP_CARDS_MAX];
	size_t n;
};

static int list_parse(const char *s, const char *option, struct list *l)
{
	char *p, *save = NULL;

	l->n = 0;
	if ((l->storage = strdup(s)) == NULL)
		return cer_err(CER_E_NOMEM, "out of memory");
	for (p = strtok_r(l->storage, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
		if (l->n == BACKUP_CARDS_MAX)
			return cli_usage_error(NULL, "%s: more than %d entries", option,
					       BACKUP_CARDS_MAX);
		l->items[l->n++] = p;
	}
	if (l->n == 0)
		return cli_usage_error(NULL, "%s is empty", option);
	return 0;
}

/* --cards and the per-card lists, which must match it in length. */
static int cards_parse(const struct backup_opts *o, const char *usage, struct list l[4],
		       struct backup_cards *c)
{
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = cli_require(o->cards, "--cards", usage)) != 0 ||
	    (r = list_parse(o->cards, "--cards", &l[0])) != 0)
		return r;
	c->names = l[0].items;
	c->count = l[0].n;
	c->module = o->card_module;
	const char *src[3] = {o->card_pins, o->passphrases, o->holders};
	const char *names[3] = {"--card-pin-sources", "--passphrase-sources", "--holders"};
	const char *const **dst[3] = {&c->pin_sources, &c->passphrase_sources, &c->holders};
	for (int i = 0; i < 3; i++) {
		if (src[i] == NULL)
			continue;
		if ((r = list_parse(src[i], names[i], &l[i + 1])) != 0)
			return r;
		if (l[i + 1].n != c->count)
			return cli_usage_error(usage, "%s has %zu entries for %zu cards", names[i],
					       l[i + 1].n, c->count);
		*dst[i] = l[i + 1].items;
	}
	return 0;
}

static int split_parse(const struct backup_opts *o, const char *usage,
		       struct backup_create_params *p)
{
	return cli_split_parse(&o->split, usage, p->groups, &p->group_threshold, &p->group_count);
}

static void lists_free(struct list l[4])
{
	for (int i = 0; i < 4; i++)
		free(l[i].storage);
}

static int create_or_rekey(struct ceremony_ctx *ctx, int argc, char **argv, const char *usage,
			   int rekey)
{
	struct backup_opts o;
	struct backup_create_params p;
	struct list l[4];
	int first, r;

	memset(&o, 0, sizeof(o));
	memset(&p, 0, sizeof(p));
	memset(l, 0, sizeof(l));
	if ((r = cli_getopt(ctx, argc, argv, "h", backup_longopts, usage, backup_opt, &o,
			    &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc) {
		r = cli_usage_error(usage, "unexpected argument \"%s\"", argv[first]);
		goto out;
	}
	if (o.blob != NULL || o.root != NULL || o.drill || o.extractable || o.challenge_out ||
	    o.signature_out || o.allow_superseded || (!rekey && o.old_blob != NULL)) {
		r = cli_usage_error(usage, "an option of another backup command was given");
		goto out;
	}
	if ((r = cli_require(o.token, "--token", usage)) != 0 ||
	    (r = cli_require(o.key, "--key", usage)) != 0 ||
	    (r = cli_require(o.out, "--out", usage)) != 0 ||
	    (r = cli_require(o.internal, "--internal-record", usage)) != 0 ||
	    (rekey && (r = cli_require(o.old_blob, "--old-blob", usage)) != 0) ||
	    (r = split_parse(&o, usage, &p)) != 0 || (r = cards_parse(&o, usage, l, &p.cards)) != 0)
		goto out;
	p.token = o.token;
	p.key_label = o.key;
	p.out_path = o.out;
	p.internal_record = o.internal;
	p.supersedes = rekey ? o.old_blob : NULL;
	p.test_cost = o.test_cost;
	p.approve = o.approve;
	r = backup_create(ctx, &p, stdout);
out:
	lists_free(l);
	return r;
}

static int cmd_backup_create(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return create_or_rekey(ctx, argc, argv, create_usage, 0);
}

static int cmd_backup_rekey(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return create_or_rekey(ctx, argc, argv, rekey_usage, 1);
}

static int cmd_backup_recover(struct ceremony_ctx *ctx, int argc, char **argv)
{
	struct backup_opts o;
	struct backup_recover_params p;
	struct list l[4];
	int first, r;

	memset(&o, 0, sizeof(o));
	memset(&p, 0, sizeof(p));
	memset(l, 0, sizeof(l));
	if ((r = cli_getopt(ctx, argc, argv, "h", backup_longopts, recover_usage, backup_opt, &o,
			    &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc) {
		r = cli_usage_error(recover_usage, "unexpected argument \"%s\"", argv[first]);
		goto out;
	}
	if (o.key != NULL || o.split.threshold != NULL || o.split.shares != NULL ||
	    o.split.group_count > 0 || o.split.group_threshold != NULL || o.out != NULL || o.internal != NULL || o.old_blob != NULL ||
	    o.holders != NULL) {
		r = cli_usage_error(recover_usage, "an option of another backup command was given");
		goto out;
	}
	if ((r = cli_require(o.token, "--token", recover_usage)) != 0 ||
	    (r = cli_require(o.blob, "--blob", recover_usage)) != 0 ||
	    (r = cli_require(o.root, "--root", recover_usage)) != 0 ||
	    (r = cards_parse(&o, recover_usage, l, &p.cards)) != 0)
		goto out;
	p.token = o.token;
	p.blob_path = o.blob;
	p.root_path = o.root;
	p.drill = o.drill;
	p.extractable = o.extractable;
	p.challenge_out = o.challenge_out;
	p.signature_out = o.signature_out;
	p.test_cost = o.test_cost;
	p.allow_superseded = o.allow_superseded;
	p.approve = o.approve;
	r = backup_recover(ctx, &p, stdout);
out:
	lists_free(l);
	return r;
}

static const struct cli_command backup_commands[] = {
	{"create", cmd_backup_create, "wrap the root key and split its KEK to Key Executive cards", NULL, NULL},
	{"recover", cmd_backup_recover, "reconstitute the root key at a backup token from k cards", NULL, NULL},
	{"rekey", cmd_backup_rekey, "re-wrap under a fresh KEK split to a new set of cards", NULL, NULL},
	{"kit", cmd_backup_kit, "write (or verify) the recovery kit for the backup site", NULL, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_backup(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "backup",
			    "usage: ceremony backup COMMAND [options]\n"
			    "\nThe root key's backup and disaster recovery (docs/backup.md, "
			    "docs/recovery.md).\n",
			    backup_commands, argc, argv);
}

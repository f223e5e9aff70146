/* ceremony backup create | recover | rekey */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/backup.h"
#include "ceremony/cli_split.h"
#include "ceremony/commands.h"
#include "ceremony/err.h"

enum {
	OPT_TOKEN = OPT_COMMON_LAST + 1,
	OPT_KEY,
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
	"the internal record (docs/backup.md).\n";

static const struct cli_opt create_opts[] = {
	{.name = "token", .arg = "T", .val = OPT_TOKEN,
	 .help = "the root HSM token"},
	{.name = "key", .arg = "L", .val = OPT_KEY,
	 .help = "the root key's label"},
	{.include = cli_split_table},
	{.name = "cards", .arg = "LIST", .val = OPT_CARDS,
	 .help = "card tokens (labels or pkcs11: URIs), comma-separated, one\n"
		 "per share, in share order (group by group)",
	 .man = "Card tokens (labels or\n"
		".B pkcs11:\n"
		"URIs), comma-separated, one per share, in share order (group by group)."},
	{.name = "holders", .arg = "LIST", .val = OPT_HOLDERS,
	 .help = "Key Executives' names in card order (default: card labels)"},
	{.name = "out", .arg = "FILE", .val = OPT_OUT,
	 .help = "the backup blob (never overwritten)"},
	{.name = "internal-record", .arg = "FILE", .val = OPT_INTERNAL,
	 .help = "the confidential record of k, n and cards (never overwritten)"},
	{.name = "card-pin-sources", .arg = "LIST", .val = OPT_CARD_PINS,
	 .help = "file:PATH per card, in card order (default: asked on\n"
		 "the terminal, naming the card)",
	 .man = ".BI file: PATH\n"
		"per card, in card order (default: asked on the terminal, naming the card)."},
	{.name = "passphrase-sources", .arg = "LIST", .val = OPT_PASSPHRASES,
	 .help = "file:PATH per card for the executives' new share\n"
		 "passphrases (default: asked twice on the terminal)",
	 .man = ".BI file: PATH\n"
		"per card for the executives' new share passphrases (default: asked twice on\n"
		"the terminal)."},
	{.name = "card-module", .arg = "PATH", .val = OPT_CARD_MODULE,
	 .help = "the cards' PKCS#11 module (default: the HSM's)"},
	{.name = "test-cost", .val = OPT_TEST_COST,
	 .help = "seal at the TEST Argon2id cost (1 pass, 8 KiB) instead of\n"
		 "3 passes, 256 MiB: for tests and demos only; announced,\n"
		 "recorded, and refused by transcript verify and audit\n"
		 "unless they are told (\"argon2_cost: test\" in ceremony.yaml\n"
		 "does the same, for scripted runs)",
	 .man = "Seal at the TEST Argon2id cost (1 pass, 8 KiB) instead of 3 passes, 256 MiB:\n"
		"for tests and demos only.\n"
		"Announced in capitals, recorded in the transcript\n"
		".RB ( seal_cost.test_cost_because ),\n"
		"and refused by\n"
		".B transcript verify\n"
		"and\n"
		".B audit\n"
		"unless they are told\n"
		".RB ( --allow-test-cost ).\n"
		".B \"argon2_cost: test\"\n"
		"in the site configuration (ceremony.yaml) does the same, for scripted runs,\n"
		"and is recorded as the cause."},
	{.help = "Once the CA's history holds a quorum policy, the quorum approves the blob's SHA-256\n"
		 "with their cards before any card is written (backup-create, backup-rekey):\n"},
	{.include = cli_approve_opts,
	 .man = ".TP\n"
		".BI --approvers \" ROLES\"\n"
		"Once the CA's history holds a quorum policy, the officers who approve\n"
		".RB ( backup\\-create ,\n"
		".BR backup\\-rekey ),\n"
		"in order, comma-separated: the refusal of too few comes before the HSM is\n"
		"touched; after the blob is built, and before any card is written, each\n"
		"officer's card signs an approval of the blob's SHA-256, recorded in the\n"
		"backup's own record (see\n"
		".BR ceremony\\-quorum (1)).\n"
		".TP\n"
		".BI --approver-pin-sources \" LIST\"\n"
		".BI file: PATH\n"
		"per approver, for their card PINs (default: each is asked on the terminal).\n"},
	CLI_END,
};

static const struct cli_spec create_spec = {create_usage, create_opts};

static const char rekey_usage[] =
	"usage: ceremony backup rekey --old-blob OLD.blob --token T --key L ... (as create)\n"
	"\nRe-wraps the root key under a fresh KEK split to a new set of cards (needs the\n"
	"root HSM and its SO and user PINs, not the old shares). The transcript marks the\n"
	"old blob superseded; wipe the old cards with \"ceremony card wipe --blob OLD\".\n";

static const struct cli_opt rekey_opts[] = {
	{.help = "Takes every option of \"backup create\" plus:\n",
	 .man = "Every option of\n.BR \"backup create\" ,\nand:\n",
	 .include = create_opts},
	{.name = "old-blob", .arg = "FILE", .val = OPT_OLD_BLOB,
	 .help = "the blob this backup supersedes (same root key)"},
	CLI_END,
};

static const struct cli_spec rekey_spec = {rekey_usage, rekey_opts};

static const char recover_usage[] =
	"usage: ceremony backup recover --token BACKUP --blob FILE --cards URI,...\n"
	"         --root root.pem [--drill] --transcript FILE [options]\n"
	"\nAt a backup site: asks each present executive for card PIN and passphrase, in card\n"
	"order, until enough valid shares are in (each is checked against its commitment as\n"
	"it is entered); combines the KEK, checks it against the blob's commitment and MAC,\n"
	"imports it, unwraps the root key with the root template (non-extractable unless\n"
	"--extractable), destroys the KEK, recreates the public key, and proves the result\n"
	"by signing a fresh challenge in the HSM verified with root.pem. Records how long\n"
	"it took. Any refusal leaves nothing on the backup token.\n";

static const struct cli_opt recover_opts[] = {
	{.name = "token", .arg = "T", .val = OPT_TOKEN,
	 .help = "the backup HSM token (user PIN: --pin-source or terminal)",
	 .man = "The backup HSM token (user PIN:\n"
		".B --pin-source\n"
		"or the terminal)."},
	{.name = "blob", .arg = "FILE", .val = OPT_BLOB,
	 .help = "the backup blob"},
	{.name = "root", .arg = "FILE", .val = OPT_ROOT,
	 .help = "the root certificate (PEM)"},
	{.name = "cards", .arg = "LIST", .val = OPT_CARDS,
	 .help = "card tokens, comma-separated, in the order they are read"},
	{.name = "card-pin-sources", .arg = "LIST", .val = OPT_CARD_PINS,
	 .help = "file:PATH per card, in card order (as for create)",
	 .man = ".BI file: PATH\n"
		"per card, in card order (default: asked on the terminal, naming the card)."},
	{.name = "passphrase-sources", .arg = "LIST", .val = OPT_PASSPHRASES,
	 .help = "file:PATH per card for the executives' share passphrases\n"
		 "(default: asked on the terminal)",
	 .man = ".BI file: PATH\n"
		"per card for the executives' share passphrases (default: asked on the\n"
		"terminal)."},
	{.name = "drill", .val = OPT_DRILL,
	 .help = "destroy the reconstituted key after the proof (recorded)"},
	{.name = "extractable", .val = OPT_EXTRACTABLE,
	 .help = "keep the copy exportable under a trusted KEK",
	 .man = "Keep the copy exportable under a trusted KEK (needed to rekey from the backup\n"
		"token)."},
	{.name = "challenge-out", .arg = "FILE", .val = OPT_CHALLENGE_OUT,
	 .help = "write the signed challenge"},
	{.name = "signature-out", .arg = "FILE", .val = OPT_SIGNATURE_OUT,
	 .help = "write the signature (DER ECDSA / PKCS#1 v1.5)",
	 .man = "Write the signature (DER ECDSA or PKCS#1 v1.5)."},
	{.name = "card-module", .arg = "PATH", .val = OPT_CARD_MODULE,
	 .help = "the cards' PKCS#11 module (default: the HSM's)"},
	{.name = "allow-superseded", .val = OPT_ALLOW_SUPERSEDED,
	 .help = "recover a blob that a backup.rekey record superseded\n"
		 "(refused otherwise; recorded)",
	 .man = "Recover a blob that a\n"
		".B backup.rekey\n"
		"record in a transcript beside\n"
		".B --transcript\n"
		"superseded (refused otherwise; recorded as\n"
		".BR allow_superseded )."},
	{.name = "test-cost", .val = OPT_TEST_COST,
	 .help = "accept shares sealed at the TEST Argon2id cost (announced)",
	 .man = "Accept shares sealed at the TEST Argon2id cost (announced; recorded)."},
	{.help = "Once the CA's history holds a quorum policy, the quorum approves recovering from\n"
		 "the blob (its SHA-256) before any card or the token is touched (backup-recover):\n"},
	{.include = cli_approve_opts,
	 .man = ".TP\n"
		".BI --approvers \" ROLES\"\n"
		"Once the CA's history holds a quorum policy, the officers who approve the\n"
		"recovery\n"
		".RB ( backup\\-recover ,\n"
		"over the blob's SHA-256) before any card or the token is touched.\n"
		".TP\n"
		".BI --approver-pin-sources \" LIST\"\n"
		".BI file: PATH\n"
		"per approver, for their card PINs.\n"},
	CLI_END,
};

static const struct cli_spec recover_spec = {recover_usage, recover_opts};


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

	int r;

	if ((r = cli_split_option(&o->split, c, arg)) != 1)
		return r;
	switch (c) {
	case OPT_TOKEN: o->token = arg; return 0;
	case OPT_KEY: o->key = arg; return 0;
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
	default: return -1;
	}
}


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

static int create_or_rekey(struct ceremony_ctx *ctx, int argc, char **argv,
			   const struct cli_spec *spec, int rekey)
{
	const char *usage = spec->usage;
	struct backup_opts o;
	struct backup_create_params p;
	struct list l[4];
	int first, r;

	memset(&o, 0, sizeof(o));
	memset(&p, 0, sizeof(p));
	memset(l, 0, sizeof(l));
	if ((r = cli_parse(ctx, argc, argv, spec, backup_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc) {
		r = cli_usage_error(usage, "unexpected argument \"%s\"", argv[first]);
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
	return create_or_rekey(ctx, argc, argv, &create_spec, 0);
}

static int cmd_backup_rekey(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return create_or_rekey(ctx, argc, argv, &rekey_spec, 1);
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
	if ((r = cli_parse(ctx, argc, argv, &recover_spec, backup_opt, &o, &first)) != 0)
		return r > 0 ? 0 : r;
	if (first != argc) {
		r = cli_usage_error(recover_usage, "unexpected argument \"%s\"", argv[first]);
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

const struct cli_command cmd_backup_verbs[] = {
	{"create", cmd_backup_create, "wrap the root key and split its KEK to Key Executive cards", &create_spec, NULL},
	{"recover", cmd_backup_recover, "reconstitute the root key at a backup token from k cards", &recover_spec, NULL},
	{"rekey", cmd_backup_rekey, "re-wrap under a fresh KEK split to a new set of cards", &rekey_spec, NULL},
	{"kit", cmd_backup_kit, "write (or verify) the recovery kit for the backup site", &cmd_backup_kit_spec, cmd_backup_kit_verbs},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_backup(struct ceremony_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "backup",
			    "usage: ceremony backup COMMAND [options]\n"
			    "\nThe root key's backup and disaster recovery (docs/backup.md, "
			    "docs/recovery.md).\n",
			    cmd_backup_verbs, argc, argv);
}

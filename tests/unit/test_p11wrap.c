/*
 * p11wrap and backup on a real SoftHSM2 token this test creates in its own folder:
 * the RFC 5649 known-answer test, an untrusted KEK refused by C_WrapKey, the
 * trusted SO-session KEK accepted, and no KEK byte on disk after a whole backup.
 * Skipped when SoftHSM2 is not installed.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "../../src/ops/backup_int.h" /* to open each card's share as recovery does */
#include "ceremony/backup.h"
#include "ceremony/backupblob.h"
#include "ceremony/slip39.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/p11.h"
#include "ceremony/p11key.h"
#include "ceremony/p11wrap.h"
#include "ceremony/seal.h"
#include "../../src/hsm/p11_int.h" /* the test creates objects directly */
#include "ceremony/secret.h"
#include "test_softhsm.h"

static int write_text(const char *name, const char *text)
{
	char p[512];
	FILE *f;

	(void)snprintf(p, sizeof(p), "%s/%s", dir, name);
	if ((f = fopen(p, "w")) == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int setup(void **state)
{
	(void)state;
	if (softhsm_folder_make("p11wrap") != 0)
		return -1;
	if (module_path[0] == '\0')
		return 0;
	if (write_text("so", "so-pin-0000") != 0 || write_text("user", "user-pin-1234") != 0 ||
	    write_text("pass", "a passphrase long enough for the rule") != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return softhsm_folder_remove();
}

/* SoftHSM offers one empty slot per C_Initialize: a module load for each new token. */
static void token_new(const char *label, struct p11_token *t)
{
	struct secret *so = pin("so-pin-0000"), *user = pin("user-pin-1234");
	struct p11_module *m = NULL;

	assert_int_equal(p11_module_load(module_path, &m), 0);
	int created = 0;
	assert_int_equal(p11_token_init(m, label, so, user, t, &created), 0);
	p11_module_free(m);
	secret_free(so);
	secret_free(user);
}

/* An AES-256 wrapping key made by the user: no CKA_TRUSTED. */
static CK_OBJECT_HANDLE untrusted_kek(struct p11_session *s)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	uint8_t value[32] = {9};
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
			    {CKA_TOKEN, &no, sizeof(no)},   {CKA_WRAP, &yes, sizeof(yes)},
			    {CKA_VALUE, value, sizeof(value)}};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	assert_int_equal(s->f->C_CreateObject(s->handle, t, 5, &h), CKR_OK);
	return h;
}

static void test_p11wrap_refuses_an_untrusted_kek_and_takes_the_trusted_one(void **state)
{
	struct p11_module *m = NULL;
	struct p11_token tok;
	struct p11_session *a = NULL, *b = NULL;
	struct p11key key;
	struct p11key_evidence ev;
	struct p11wrap_mech mech;
	struct secret *user = pin("user-pin-1234"), *so = pin("so-pin-0000");
	uint8_t kek[32] = {1, 2, 3}, *w = NULL;
	size_t wlen = 0;
	CK_OBJECT_HANDLE h, hb;

	(void)state;
	if (module_path[0] == '\0')
		skip();
	token_new("wraptest", &tok);
	assert_int_equal(p11_module_load(module_path, &m), 0);
	assert_int_equal(p11_token_find(m, "wraptest", &tok), 0);
	assert_int_equal(p11_session_open(m, &tok, &a), 0);
	assert_int_equal(p11_session_open(m, &tok, &b), 0);
	assert_int_equal(p11wrap_kat_run(a, &mech), 0);
	assert_true(mech.mechanism == P11WRAP_CKM_AES_KEY_WRAP_PAD ||
		    mech.mechanism == P11WRAP_CKM_AES_KEY_WRAP_KWP);
	assert_int_equal(p11_login(a, CKU_USER, user), 0);
	assert_int_equal(p11key_generate(a, "root", KEY_EC_P256, P11KEY_ROOT_WRAP, 0, &key, &ev), 0);

	/* CKA_WRAP_WITH_TRUSTED: an untrusted key may not wrap the root. */
	h = untrusted_kek(a);
	assert_int_equal(p11wrap_wrap(a, mech.mechanism, h, key.priv, &w, &wlen), CER_E_REFUSED);
	assert_non_null(strstr(cer_err_msg(CER_E_REFUSED), "CKR_KEY_NOT_WRAPPABLE"));
	assert_null(w);
	assert_int_equal(p11_object_destroy(a, h, "kek"), 0);

	/* The SO's trusted session KEK, SO logged out, the user wraps. */
	assert_int_equal(p11_logout(a), 0);
	assert_int_equal(p11_login(b, CKU_SO, so), 0);
	assert_int_equal(p11wrap_kek_create_trusted(b, kek, mech.mechanism, "k", &hb), 0);
	assert_int_equal(p11_logout(b), 0);
	assert_int_equal(p11_login(a, CKU_USER, user), 0);
	assert_int_equal(p11key_find(a, "root", &key), 0);
	assert_int_equal(p11wrap_kek_find(a, "k", &h), 0);
	assert_int_equal(p11wrap_wrap(a, mech.mechanism, h, key.priv, &w, &wlen), 0);
	assert_true(wlen >= 24);
	assert_int_equal(p11_object_destroy(b, hb, "kek"), 0);
	assert_int_equal(p11wrap_kek_find(a, "k", &h), CER_E_NOTFOUND);
	free(w);
	secret_free(user);
	secret_free(so);
	p11_session_close(a);
	p11_session_close(b);
	p11_module_free(m);
}

/* Does any file under path contain needle (len bytes)? */
static int tree_contains(const char *path, const uint8_t *needle, size_t len)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int found = 0;

	if (d == NULL) {
		FILE *f = fopen(path, "rb");
		uint8_t *buf;
		long n;
		if (f == NULL)
			return 0;
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		buf = malloc(n > 0 ? (size_t)n : 1);
		if (buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n)
			for (long i = 0; i + (long)len <= n && !found; i++)
				found = memcmp(buf + i, needle, len) == 0;
		free(buf);
		fclose(f);
		return found;
	}
	while (!found && (e = readdir(d)) != NULL) {
		char p[1024];
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		(void)snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		found = tree_contains(p, needle, len);
	}
	closedir(d);
	return found;
}

static void test_backup_leaves_no_kek_on_disk(void **state)
{
	struct p11_module *m = NULL;
	struct p11_token tok;
	struct p11_session *s = NULL;
	struct secret *user = pin("user-pin-1234"), *kek = NULL;
	struct p11key key;
	struct p11key_evidence ev;
	struct ceremony_ctx ctx;
	struct backup_create_params p;
	char pinsrc[300], sosrc[300], passsrc[300], tr[300], blob[300], rec[300];
	char hex[65];
	const char *names[3] = {"card1", "card2", "card3"};
	const char *pins[3], *passes[3];
	size_t used = 0;
	FILE *devnull = fopen("/dev/null", "w");

	(void)state;
	if (module_path[0] == '\0')
		skip();
	for (int i = 0; i < 3; i++)
		token_new(names[i], &tok);
	token_new("root-hsm", &tok);
	assert_int_equal(p11_module_load(module_path, &m), 0);
	assert_int_equal(p11_token_find(m, "root-hsm", &tok), 0);
	assert_int_equal(p11_session_open(m, &tok, &s), 0);
	assert_int_equal(p11_login(s, CKU_USER, user), 0);
	assert_int_equal(p11key_generate(s, "root", KEY_EC_P384, P11KEY_ROOT_WRAP, 0, &key, &ev), 0);
	p11_session_close(s);
	(void)snprintf(pinsrc, sizeof(pinsrc), "file:%s/user", dir);
	(void)snprintf(sosrc, sizeof(sosrc), "file:%s/so", dir);
	(void)snprintf(passsrc, sizeof(passsrc), "file:%s/pass", dir);
	(void)snprintf(tr, sizeof(tr), "%s/t.jsonl", dir);
	(void)snprintf(blob, sizeof(blob), "%s/root.blob", dir);
	(void)snprintf(rec, sizeof(rec), "%s/internal.json", dir);
	for (int i = 0; i < 3; i++) {
		pins[i] = pinsrc;
		passes[i] = passsrc;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.module_path = module_path;
	ctx.pin_source = pinsrc;
	ctx.so_pin_source = sosrc;
	ctx.transcript_path = tr;
	ctx.allow_network = 1; /* a test machine is on a network; the override is recorded */
	memset(&p, 0, sizeof(p));
	p.token = "root-hsm";
	p.key_label = "root";
	p.group_threshold = p.group_count = 1;
	p.groups[0].member_threshold = 2;
	p.groups[0].member_count = 3;
	p.cards.names = names;
	p.cards.count = 3;
	p.cards.pin_sources = pins;
	p.cards.passphrase_sources = passes;
	p.out_path = blob;
	p.internal_record = rec;
	p.test_cost = 1; /* explicit: this test has no time for 256 MiB per card */
	assert_int_equal(backup_create(&ctx, &p, devnull), 0);

	/* The KEK, as the test can know it: combined from two cards through the library. */
	p.cards.names = (const char *[]){"card3", "card1"};
	p.cards.count = 2;
	assert_int_equal(backup_kek_from_cards(&ctx, blob, &p.cards, 1, &kek, &used), 0);
	assert_int_equal(used, 2);
	assert_int_equal(kek->len, 32);
	hex_encode(kek->data, 32, hex);
	assert_false(tree_contains(dir, kek->data, 32));
	assert_false(tree_contains(dir, kek->data, 8)); /* not even a part of it */
	assert_false(tree_contains(dir, (const uint8_t *)hex, 64));
	assert_false(tree_contains(dir, (const uint8_t *)hex, 16));

	/* Every share, as a card opens it: neither its packed bytes, its value, a part
	 * of it, nor its words are in any file the run wrote or in the token folder. */
	{
		struct backupblob *bb = malloc(sizeof(*bb));
		struct backup_card cs[3];
		struct slip39_share *sh = sodium_malloc(sizeof(*sh));
		struct seal_limits lim = seal_limits_test();
		uint8_t *raw = NULL, packed[64];
		size_t raw_len = 0, plen = 0;
		char words[512];
		CK_OBJECT_HANDLE obj;

		assert_non_null(bb);
		assert_non_null(sh);
		assert_int_equal(backupblob_load(blob, &raw, &raw_len, bb), 0);
		/* The search finds what is there: the blob's own bytes. */
		assert_true(tree_contains(dir, raw + raw_len - 40, 32));
		p.cards.names = names;
		p.cards.count = 3;
		memset(cs, 0, sizeof(cs));
		assert_int_equal(backup_cards_resolve(m, &p.cards, NULL, cs), 0);
		for (int i = 0; i < 3; i++) {
			assert_int_equal(backup_card_login(m, &cs[i]), 0);
			assert_int_equal(backup_card_open_share(&cs[i], bb, &lim, NULL, NULL, sh, &obj), 0);
			backup_card_logout(&cs[i]);
			assert_int_equal(slip39_share_pack(sh, packed, sizeof(packed), &plen), 0);
			assert_int_equal(slip39_share_encode(sh, words, sizeof(words)), 0);
			assert_false(tree_contains(dir, packed, plen));
			assert_false(tree_contains(dir, sh->value, sh->value_len));
			assert_false(tree_contains(dir, sh->value, 8));
			assert_false(tree_contains(dir, (const uint8_t *)words, strlen(words)));
			*strchr(strchr(strchr(words, ' ') + 1, ' ') + 1, ' ') = '\0';
			assert_false(tree_contains(dir, (const uint8_t *)words, strlen(words)));
		}
		sodium_memzero(packed, sizeof(packed));
		sodium_memzero(words, sizeof(words));
		sodium_free(sh);
		free(raw);
		free(bb);
	}

	/* Two cards from different sets, or one card: refused. */
	p.cards.names = (const char *[]){"card2"};
	p.cards.count = 1;
	secret_free(kek);
	kek = NULL;
	assert_int_equal(backup_kek_from_cards(&ctx, blob, &p.cards, 1, &kek, &used), CER_E_REFUSED);
	assert_null(kek);
	fclose(devnull);
	secret_free(user);
	p11_module_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_p11wrap_refuses_an_untrusted_kek_and_takes_the_trusted_one),
		cmocka_unit_test(test_backup_leaves_no_kek_on_disk),
	};
	if (secret_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}

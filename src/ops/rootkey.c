/* rootkey: the root key, generated in the HSM with its evidence recorded, and shown. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/ctx_transcript.h"
#include "ceremony/encode.h"
#include "ceremony/err.h"
#include "ceremony/hsm.h"
#include "ceremony/keyrecord.h"
#include "ceremony/leftover.h"
#include "ceremony/p11key.h"
#include "ceremony/p11probe.h"
#include "ceremony/readaloud.h"
#include "ceremony/rootkey.h"
#include "ceremony/sizes.h"
#include "ceremony/transcript.h"

static void print_evidence(FILE *out, const struct p11key_evidence *ev)
{
	fprintf(out,
		"  LOCAL=%s ALWAYS_SENSITIVE=%s SENSITIVE=%s EXTRACTABLE=%s WRAP_WITH_TRUSTED=%s\n"
		"  NEVER_EXTRACTABLE=%s SIGN=%s DECRYPT=%s UNWRAP=%s DERIVE=%s KEY_GEN_MECHANISM=%s\n",
		ev->local == 1 ? "TRUE" : "FALSE", ev->always_sensitive == 1 ? "TRUE" : "FALSE",
		ev->sensitive == 1 ? "TRUE" : "FALSE", ev->extractable == 1 ? "TRUE" : "FALSE",
		ev->wrap_with_trusted == 1 ? "TRUE" : "FALSE",
		ev->never_extractable == 1 ? "TRUE" : "FALSE", ev->sign == 1 ? "TRUE" : "FALSE",
		ev->decrypt == 1 ? "TRUE" : "FALSE", ev->unwrap == 1 ? "TRUE" : "FALSE",
		ev->derive == 1 ? "TRUE" : "FALSE", p11key_mechanism_name(ev->key_gen_mechanism));
}

/* A key pair a failed run could not destroy: record it, so the next run knows (STYLE 17). */
static int key_leftover_record(struct transcript *tr, struct hsm *h, const struct p11key *k,
			       int r)
{
	char id_hex[2 * sizeof(k->id) + 1];

	hex_encode(k->id, k->id_len, id_hex);
	return leftover_record(tr, r, keyrecord_token(&h->token),
			       json_pack("[{s:s, s:s, s:s}]", "class", "private and public key",
					 "label", k->label, "id", id_hex),
			       "key.generate failed");
}

int rootkey_generate(struct ceremony_ctx *ctx, const char *token, const char *label,
			 const char *type, enum p11key_policy policy, unsigned waivers, FILE *out)
{
	struct hsm h;
	struct transcript *tr = NULL;
	struct p11key key;
	struct p11key_evidence ev;
	struct p11key_public pub;
	enum key_type kt;
	char id_hex[2 * sizeof(key.id) + 1], *spki_hex = NULL, who[192], dir[PATH_MAX];
	const char *tpath;
	int r, generated = 0, cleared = 0;

	memset(&h, 0, sizeof(h));
	memset(&key, 0, sizeof(key));
	memset(&pub, 0, sizeof(pub));
	if ((r = key_type_parse(type, &kt)) != 0)
		return r;
	if ((r = ctx_history_dir(ctx, NULL, "key generate", dir, sizeof(dir), &tpath)) != 0 ||
	    (r = ctx_transcript_open(ctx, "key generate", &tr)) != 0)
		return r;
	/* Issue 12 item 3: what the token cannot do is said before the PIN prompt. */
	if ((r = hsm_open(ctx, token, &h)) != 0 ||
	    (r = p11key_generate_possible(h.module, &h.token, kt)) != 0)
		goto out;
	/* A wrap-policy key on a token that cannot wrap could never be backed up. */
	if (policy == P11KEY_ROOT_WRAP && (r = p11probe_check(h.module, &h.token, P11PROBE_WRAP)) != 0) {
		cer_err_prefix("--backup wrap (the default) needs RFC 5649 key wrap; give --backup "
			       "none for a key this tool never exports; nothing was generated: ");
		goto out;
	}
	/* A rerun removes the pair a failed run left under this label (hsm.leftover). */
	if ((r = hsm_login_user(ctx, &h)) != 0 ||
	    (r = leftover_key_clear(tr, h.session, &h.token, keyrecord_token(&h.token), label, NULL, 0, dir,
				    out, &cleared)) != 0)
		goto out;
	if ((r = p11key_generate(h.session, label, kt, policy, waivers, &key, &ev)) != 0) {
		if (key.priv != CK_INVALID_HANDLE)
			r = key_leftover_record(tr, &h, &key, r);
		goto out;
	}
	generated = 1;
	if ((r = p11key_public_read(h.session, &key, &pub)) != 0 ||
	    (r = hex_encode_new(pub.spki, pub.spki_len, &spki_hex)) != 0)
		goto out;
	hex_encode(key.id, key.id_len, id_hex);
	r = transcript_append(tr, "key.generate", NULL, NULL,
			      json_pack("{s:o, s:{s:s, s:s, s:s}, s:o, s:s, s:s, s:s, s:o}", "token",
					keyrecord_token(&h.token), "key", "label", label, "id", id_hex,
					"type", key_type_name(kt), "evidence", keyrecord_evidence(&ev),
					"spki_sha256", pub.spki_sha256_hex, "spki", spki_hex, "backup_policy",
					p11key_policy_name(policy), "waivers", keyrecord_waivers(waivers)),
			      NULL);
	if (r != 0)
		goto out;
	generated = 0; /* recorded: the key belongs to the ceremony now */
	p11_token_describe(&h.token, who, sizeof(who));
	fprintf(out, "Generated %s key \"%s\" in token %s, CKA_ID %s\n", key_type_name(kt), label,
		who, id_hex);
	fprintf(out, "  generated in the HSM: evidence recorded\n");
	fprintf(out, "  backup policy  %s\n",
		policy == P11KEY_ROOT_WRAP ? "wrap (exportable only under a trusted KEK)"
					   : "none (never extractable: this key has no backup)");
	for (size_t i = 0; p11key_waiver_name(waivers, i) != NULL; i++)
		fprintf(out, "  waiver         %s (the module cannot honour or does not report it; "
			     "recorded)\n",
			p11key_waiver_name(waivers, i));
	print_evidence(out, &ev);
	readaloud_print(out, "SPKI sha256", pub.spki_sha256, sizeof(pub.spki_sha256));
out:
	if (r != 0 && generated && p11key_discard(h.session, &key) != 0)
		r = key_leftover_record(tr, &h, &key, r);
	free(spki_hex);
	p11key_public_free(&pub);
	hsm_close(&h);
	transcript_close(tr);
	return r;
}

int rootkey_show(struct ceremony_ctx *ctx, const char *token, const char *label, FILE *out)
{
	struct hsm h;
	struct p11key key;
	struct p11key_evidence ev;
	struct p11key_public pub;
	unsigned waivers = 0, used = 0;
	char id_hex[2 * sizeof(key.id) + 1], who[192];
	int r, local;

	memset(&pub, 0, sizeof(pub));
	if ((r = hsm_open(ctx, token, &h)) != 0)
		return r;
	if ((r = hsm_login_user(ctx, &h)) != 0 || (r = p11key_find(h.session, label, &key)) != 0 ||
	    (r = p11key_evidence_read(h.session, &key, &ev)) != 0 ||
	    (r = p11key_waivers_read(h.session, &key, &waivers)) != 0 ||
	    (r = p11key_public_read(h.session, &key, &pub)) != 0)
		goto out;
	hex_encode(key.id, key.id_len, id_hex);
	p11_token_describe(&h.token, who, sizeof(who));
	fprintf(out, "Key \"%s\" in token %s\n  type           %s\n  CKA_ID         %s\n", label, who,
		key_type_name(key.type), id_hex);
	print_evidence(out, &ev);
	readaloud_print(out, "SPKI sha256", pub.spki_sha256, sizeof(pub.spki_sha256));
	for (size_t i = 0; p11key_waiver_name(waivers, i) != NULL; i++)
		fprintf(out, "  waiver         %s (recorded at generation)\n",
			p11key_waiver_name(waivers, i));
	/* A key that is not LOCAL came from a backup: held to what it can do, not how it was made. */
	local = ev.local == 1;
	r = p11key_evidence_check(&ev, ev.extractable == 1 ? P11KEY_ROOT_WRAP : P11KEY_ROOT_NONE,
				  local, waivers, &used);
	if (r != 0)
		fprintf(out, "  verdict        FAILS: %s; the tool will not sign with this key\n",
			cer_err_msg(r));
	else
		fprintf(out, "  verdict        %s, never in the clear, %s%s\n",
			local ? "generated in this HSM"
			      : "not generated in this HSM (CKA_LOCAL FALSE: recovered from a backup "
				"or imported)",
			ev.extractable == 1 ? "exportable only under a trusted KEK"
					    : "never extractable",
			used != 0 ? "; with the recorded waivers above" : "");
	/* Issue 12 item 2: a failing verdict is a failure (exit 1), not a report. */
out:
	p11key_public_free(&pub);
	hsm_close(&h);
	return r;
}

#!/usr/bin/env bash
# What the tool does on the module under test (CEREMONY_TEST_MODULE: softhsm,
# p11-kit-proxy, tpm2, or a module path; docs/hsm.md). Run by test_module_*.sh.
# The probe decides the root-key policy: a token with RFC 5649 wrap gets
# "--backup wrap" and a backup; one without gets "--backup none", the waivers the
# module needs, and a backup refused up front with the reason. Then, on that
# module: root certificate, signing, CRL, seal, witness key and countersignature,
# Key Executive cards, the no-backup root key generation script to a sealed,
# audited ceremony; refusals of what the token cannot do before any prompt; a
# key whose evidence fails refused for signing; PIN rules before C_InitToken.
. "$(dirname "$0")/lib.sh"
setup_hsm
TR=$T/transcripts/module.jsonl
PROFILES=$SRC_ROOT/ceremony-scripts/profiles
SUBJ="/C=DE/O=ACME Devices/CN=ACME Module Test Root"
echo "# module under test: $MODULE_KIND ($CEREMONY_MODULE)"
# mq CMD...: CMD with the module's own log lines (tpm2-pkcs11 prints "ERROR: ..." on
# stderr whatever TPM2_PKCS11_LOG_LEVEL says, also when p11-kit-proxy loads it) taken
# out of stderr; the exit code is CMD's.
mq() {
	local rc
	"$@" 2>"$T/mq.err"
	rc=$?
	grep -v -E '^(ERROR|WARNING|WARN)[:(]|^\*\* \(|^$' "$T/mq.err" >&2
	return $rc
}

# --- probe before anything exists
probe=$("$CEREMONY" token probe 2>&1)
check "token probe answers without a PIN" test -n "$probe"
expect_contains "the probe states the PIN length rule" "$probe" "PIN length:"
expect_contains "the probe says what the tool can do" "$probe" "what the tool can do here:"
expect_contains "the probe names mechanisms" "$probe" "CKM_EC_KEY_PAIR_GEN"

# --- PIN rule before C_InitToken: a PIN the token refuses changes nothing
min=$(printf '%s\n' "$probe" | sed -n 's/.*ulMinPinLen \([0-9]*\),.*/\1/p' | head -n1)
max=$(printf '%s\n' "$probe" | sed -n 's/.*ulMaxPinLen \([0-9]*\)).*/\1/p' | head -n1)
if [ "${min:-0}" -ge 2 ]; then
	head -c $((min - 1)) /dev/zero | tr '\0' 'x' >"$T/pins/short"
	expect_fail "a PIN below ulMinPinLen is refused before C_InitToken, stating the rule" 1 \
		"nothing was changed: the new user PIN has $((min - 1)) characters; this token .* takes $min" \
		mq "$CEREMONY" --pin-source "file:$T/pins/short" --so-pin-source "file:$T/pins/so" \
		token init --label root-hsm --transcript "$TR"
	check "nothing was initialised" bash -c "! '$CEREMONY' token list | grep -q 'token label:  root-hsm'"
elif [ "${max:-0}" -gt 0 ] && [ "$max" -lt 250 ]; then
	head -c $((max + 1)) /dev/zero | tr '\0' 'x' >"$T/pins/long"
	expect_fail "a PIN above ulMaxPinLen is refused before C_InitToken, stating the rule" 1 \
		"nothing was changed: the new user PIN has $((max + 1)) characters; this token .* takes [0-9]+ to $max" \
		mq "$CEREMONY" --pin-source "file:$T/pins/long" --so-pin-source "file:$T/pins/so" \
		token init --label root-hsm --transcript "$TR"
	check "nothing was initialised" bash -c "! '$CEREMONY' token list | grep -q 'token label:  root-hsm'"
else
	skip "PIN length refused before C_InitToken" "the token takes ${min:-?} to ${max:-?} characters"
fi

expect_ok "token init" cer token init --label root-hsm --transcript "$TR"
probe=$("$CEREMONY" token probe --token root-hsm 2>&1)
if printf '%s\n' "$probe" | grep -q '^    yes  backup create'; then
	POLICY=wrap
else
	POLICY=none
fi
# What each module cannot honour, found by hand and written down in docs/hsm.md.
WAIVE=""
[ "$MODULE_KIND" = tpm2 ] && WAIVE=CKA_DECRYPT
echo "# policy $POLICY, waivers [${WAIVE}]"

# --- a key type the token cannot make: refused before the PIN prompt (no PIN source, no terminal)
if printf '%s\n' "$probe" | grep -q '^    no   root key rsa-4096'; then
	expect_fail "rsa-4096 on a token without it is refused before the PIN prompt" 1 \
		'does CKM_RSA_PKCS_KEY_PAIR_GEN only with key sizes .* not 4096' \
		mq "$CEREMONY" key generate --token root-hsm --label big --type rsa-4096 --backup "$POLICY" \
		--transcript "$TR"
else
	skip "rsa-4096 refused up front" "this token makes rsa-4096"
fi

# --- the root key under the policy the probe allows
if [ -n "$WAIVE" ]; then
	expect_fail "without its waiver the module's key is refused, naming why; nothing kept" 1 \
		'nothing was generated|CKA_DECRYPT = TRUE' \
		mq cer key generate --token root-hsm --label root --type ec-p384 --backup "$POLICY" --transcript "$TR"
	if cer key show --token root-hsm --label root >/dev/null 2>&1; then
		fail "no key was left behind" "key show finds \"root\""
	else
		pass "no key was left behind"
	fi
fi
out=$(cer key generate --token root-hsm --label root --type ec-p384 --backup "$POLICY" --waive "$WAIVE" \
	--transcript "$TR" 2>&1)
check "key generate under policy $POLICY" test $? -eq 0
expect_contains "the policy is printed" "$out" "backup policy  $POLICY"
check "the policy is recorded" grep -q "\"action\":\"key.generate\".*\"backup_policy\":\"$POLICY\"" "$TR"
if [ -n "$WAIVE" ]; then
	expect_contains "the waiver is printed" "$out" "waiver         $WAIVE"
	check "the waiver is recorded" grep -q "\"waivers\":\[\"$WAIVE\"\]" "$TR"
fi
show=$(cer key show --token root-hsm --label root 2>&1)
check "key show passes (exit 0)" test $? -eq 0
expect_contains "key show's verdict" "$show" "verdict        generated in this HSM"
[ -n "$WAIVE" ] && expect_contains "key show names the recorded waiver" "$show" "waiver         $WAIVE"
if [ "$POLICY" = none ]; then
	check "OpenSC sees a never-extractable key" bash -c "pkcs11-tool --module '$CEREMONY_MODULE' --token-label root-hsm \
		--login --pin \"\$(cat '$T/pins/user')\" --list-objects --type privkey 2>/dev/null | grep -q 'never extractable'"
fi

# --- signing on this module, checked by OpenSSL
expect_ok "cert root" cer cert root --token root-hsm --key root --profile "$PROFILES/root.yaml" \
	--subject "$SUBJ" --out "$T/out/root.pem" --transcript "$TR"
check "openssl verifies the self-signed root" openssl verify -CAfile "$T/out/root.pem" "$T/out/root.pem"
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/ica.key" \
	-subj "/C=DE/O=ACME Devices/CN=ACME Factory 9 IDevID CA" -out "$T/ica.csr" 2>/dev/null
expect_ok "cert sign" cer cert sign --token root-hsm --key root --issuer "$T/out/root.pem" \
	--profile "$PROFILES/intermediate-ca.yaml" --csr "$T/ica.csr" --out "$T/out/ica.pem" --transcript "$TR" --expect-file "$(pins_for "$T/ica.csr")"
check "openssl verifies the issued certificate" openssl verify -CAfile "$T/out/root.pem" "$T/out/ica.pem"
expect_ok "crl sign" cer crl sign --token root-hsm --key root --issuer "$T/out/root.pem" \
	--next-update 30 --out "$T/out/root.crl" --transcript "$TR"
check "openssl verifies the CRL" openssl crl -in "$T/out/root.crl" -CAfile "$T/out/root.pem" -noout

# --- Key Executive cards and a witness key on this module
expect_ok "a witness card" cer token init --label iw-card --transcript "$TR"
expect_ok "witness register on the card" cer witness register --token iw-card --label iw-key --role IW \
	--name "Iris Witness" --waive "${WAIVE:-none}" --transcript "$TR"
for i in 1 2 3; do
	expect_ok "Key Executive card $i" cer token init --label "card-$i" --transcript "$TR"
done
tokens=$("$CEREMONY" token list)
if [ "$MODULE_KIND" = tpm2 ]; then
	expect_contains "tokens with a shared serial are named by slot, model, manufacturer" "$tokens" \
		"shared by every such token"
	check "the record names the token beyond its serial" grep -q '"serial_unique":false' "$TR"
fi

# --- backup: made where the token wraps; refused up front, with the reason, where it does not
if [ "$POLICY" = wrap ]; then
	printf '%s' "a long share passphrase 1" >"$T/pins/pass"
	expect_ok "backup create on a token with RFC 5649 wrap" cer backup create --token root-hsm --key root \
		--threshold 2 --shares 3 --cards card-1,card-2,card-3 \
		--card-pin-sources "file:$T/pins/user,file:$T/pins/user,file:$T/pins/user" \
		--passphrase-sources "file:$T/pins/pass,file:$T/pins/pass,file:$T/pins/pass" \
		--out "$T/out/backup.blob" --internal-record "$T/out/internal.json" --transcript "$TR"
else
	expect_fail "backup create on a never-extractable key is refused before any prompt" 1 \
		'nothing was asked or changed: .*offers no RFC 5649 key wrap' \
		mq "$CEREMONY" backup create --token root-hsm --key root --threshold 2 --shares 3 \
		--cards card-1,card-2,card-3 --out "$T/out/backup.blob" --internal-record "$T/out/internal.json" \
		--transcript "$TR"
	check "the refused backup wrote nothing" test ! -e "$T/out/backup.blob"
fi

# --- a half-initialised token (SO PIN set by another program, no user PIN) is finished
slot=$(pkcs11-tool --module "$CEREMONY_MODULE" -L 2>/dev/null | grep -B1 -i 'uninitiali' | sed -n 's/^Slot [0-9]* (\(0x[0-9a-f]*\)).*/\1/p' | head -n1)
if [ "$MODULE_KIND" = tpm2 ]; then
	# tpm2-pkcs11 flags CKF_USER_PIN_INITIALIZED right after C_InitToken, before any
	# C_InitPIN: a half-initialised token there cannot be told from a finished one.
	skip "half-initialised token" "tpm2-pkcs11 reports a user PIN before one is set"
elif [ -n "$slot" ] && pkcs11-tool --module "$CEREMONY_MODULE" --slot "$slot" --init-token --label half \
	--so-pin "$(cat "$T/pins/so")" >/dev/null 2>&1; then
	expect_fail "token init names a half-initialised token and the way to finish it" 1 \
		'already exists.*user PIN is not set: finish it with "ceremony token set-user-pin"' \
		mq cer token init --label half --transcript "$TR"
	expect_fail "key generate on it is refused before the PIN prompt" 1 \
		'no user PIN.*set-user-pin' mq "$CEREMONY" key generate --token half --label k --type ec-p256 \
		--backup "$POLICY" --transcript "$TR"
	expect_ok "token set-user-pin finishes it" cer token set-user-pin --token half --transcript "$TR"
	check "set-user-pin is recorded" grep -q '"action":"token.set_user_pin"' "$TR"
	expect_ok "the finished token works" cer key generate --token half --label k --type ec-p256 \
		--backup "$POLICY" --waive "${WAIVE:-none}" --transcript "$TR"
	expect_fail "set-user-pin refuses a token that has a user PIN" 1 'already has a user PIN; nothing was changed' \
		mq cer token set-user-pin --token half --transcript "$TR"
	expect_fail "init --reinit refuses a token this ceremony did not create" 1 \
		'does not record that this ceremony created token "half".*nothing was changed' \
		mq cer token init --reinit --label half --transcript "$TR"
	check "the refused reinit left the key" cer key show --token half --label k
else
	skip "half-initialised token" "pkcs11-tool could not initialise an empty slot"
fi
if [ "$MODULE_KIND" = tpm2 ]; then
	expect_fail "tpm2-pkcs11 cannot re-initialise a token: the module's refusal is named" 1 \
		're-initialising token "card-3".*CKR_ARGUMENTS_BAD' \
		mq cer token init --reinit --label card-3 --transcript "$TR"
else
	expect_ok "init --reinit re-initialises a token this ceremony created" \
		cer token init --reinit --label card-3 --transcript "$TR"
	check "the reinit is recorded" grep -q '"action":"token.reinit"' "$TR"
fi
printf '%s' "new-user-pin-5678" >"$T/pins/new"
expect_ok "token change-pin (user)" cer token change-pin --token card-3 --new-pin-source "file:$T/pins/new" \
	--transcript "$TR"
check "the new PIN logs in (OpenSC)" pkcs11-tool --module "$CEREMONY_MODULE" --token-label card-3 --login \
	--pin new-user-pin-5678 --list-objects

# --- seal and verify
expect_ok "cert signer: the ceremony-signing key the root certifies" cer cert signer --token root-hsm --key root \
	--issuer "$T/out/root.pem" --profile "$SRC_ROOT/ceremony-scripts/profiles/ceremony-signer.yaml" --label signing \
	--out "$T/out/signer.pem" --waive "$WAIVE" --transcript "$TR"
expect_ok "transcript seal" cer transcript seal --token root-hsm --key signing --cert "$T/out/signer.pem" "$TR"
expect_ok "transcript verify against the root" "$CEREMONY" transcript verify --root "$T/out/root.pem" "$TR"
expect_ok "the witness countersigns" cer transcript countersign --token iw-card --key iw-key --role IW "$TR"

# --- a key whose evidence fails (made by another program: DECRYPT TRUE, no waiver) never signs
pkcs11-tool --module "$CEREMONY_MODULE" --token-label root-hsm --login --pin "$(cat "$T/pins/user")" \
	--keypairgen --key-type EC:secp384r1 --label foreign --id 0f0f --usage-sign --usage-decrypt >/dev/null 2>&1
if cer key show --token root-hsm --label foreign >"$T/foreign.out" 2>&1; then
	fail "key show exits 1 on a failing verdict" "$(cat "$T/foreign.out")"
else
	check "key show exits 1 on a failing verdict" grep -q 'verdict        FAILS' "$T/foreign.out"
fi
expect_fail "cert root refuses a key whose evidence fails" 1 \
	'refusing to sign with key "foreign": the HSM reports CKA_[A-Z_]+ = .*no recorded waiver covers it' \
	mq cer cert root --token root-hsm --key foreign --profile "$PROFILES/root.yaml" --subject "$SUBJ" \
	--out "$T/out/foreign.pem" --transcript "$T/transcripts/foreign.jsonl"
check "nothing was written" test ! -e "$T/out/foreign.pem"

# --- the root key generation script without a backup, to a sealed, audited ceremony
# A token store of its own (the script's labels are the ones used above).
case $MODULE_KIND in
softhsm | p11-kit-proxy)
	mkdir -p "$T/site-tokens"
	sed "s|^directories.tokendir = .*|directories.tokendir = $T/site-tokens|" "$T/softhsm2.conf" >"$T/site-softhsm2.conf"
	SCRIPT_ENV=(SOFTHSM2_CONF="$T/site-softhsm2.conf")
	;;
tpm2)
	mkdir -p "$T/tpm/site-store"
	SCRIPT_ENV=(TPM2_PKCS11_STORE="$T/tpm/site-store")
	;;
*) SCRIPT_ENV=() ;;
esac
if [ "$MODULE_KIND" = other ]; then
	skip "no-backup root key generation script" "a real HSM keeps its tokens: run it by hand"
	finish
fi
. "$SRC_ROOT/ceremony-scripts/demo-site.sh"
cd "$SRC_ROOT" || fatal "cd $SRC_ROOT"
make_site "$T/site" >/dev/null 2>&1
printf 'key_waivers: "%s"\n' "${WAIVE:-none}" >>"$SITE_CONFIG"
if [ "$POLICY" = none ]; then
	expect_fail "ceremony run refuses, before step 1, a script these tokens cannot finish" 1 \
		'step 3.1: nothing was done: "key generate" needs backup create: RFC 5649 wrap' \
		mq env "${SCRIPT_ENV[@]}" "$CEREMONY" --config "$SITE_CONFIG" run ceremony-scripts/root-key-generation.yaml \
		--answers "$SITE_ANSWERS" --transcript "$SITE/transcripts/0000-refused.jsonl"
	check "no token was initialised and no transcript written" bash -c "! env ${SCRIPT_ENV[*]} '$CEREMONY' \
		token list | grep -q 'token label' && test ! -e '$SITE/transcripts/0000-refused.jsonl'"
fi
env "${SCRIPT_ENV[@]}" "$CEREMONY" --config "$SITE_CONFIG" run ceremony-scripts/root-key-generation-no-backup.yaml \
	--answers "$SITE_ANSWERS" --transcript "$SITE/transcripts/0001-root-keygen.jsonl" >"$T/script.out" 2>&1 &&
	env "${SCRIPT_ENV[@]}" "$CEREMONY" --config "$SITE_CONFIG" run ceremony-scripts/signing.yaml \
		--answers "$SITE_ANSWERS" --transcript "$SITE/transcripts/0002-signing.jsonl" \
		--previous "$SITE/transcripts/0001-root-keygen.jsonl" >>"$T/script.out" 2>&1 &&
	"$CEREMONY" audit "$SITE/transcripts" --root "$SITE/out/root.pem" >>"$T/script.out" 2>&1
rc=$?
if [ $rc -eq 0 ]; then
	pass "no-backup root key generation, signing and audit run on this module"
else
	fail "no-backup root key generation, signing and audit run on this module" "$(tail -15 "$T/script.out")"
fi
check "the scripted ceremony is sealed" test -s "$SITE/transcripts/0001-root-keygen.jsonl.sig"
check "the witness countersigned it" test -s "$SITE/transcripts/0001-root-keygen.jsonl.countersig-IW"
check "the scripted key is never extractable, recorded" grep -q '"backup_policy":"none"' \
	"$SITE/transcripts/0001-root-keygen.jsonl"
check "openssl verifies a certificate the script issued" openssl verify -CAfile "$SITE/out/root.pem" \
	"$SITE/media/out/intermediate.pem"
finish

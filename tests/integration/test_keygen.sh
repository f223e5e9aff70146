#!/usr/bin/env bash
# Tokens and root keys on real SoftHSM2 tokens, checked with OpenSC's pkcs11-tool.
. "$(dirname "$0")/lib.sh"
setup_hsm
TR=$T/transcripts/keygen.jsonl

expect_ok "token init creates a token" cer token init --label root-hsm --transcript "$TR"
check "token list shows the new token" bash -c "'$CEREMONY' token list | grep -q 'token label:  root-hsm'"
check "token init records the token" grep -q '"action":"token.init"' "$TR"
expect_fail "token init refuses an existing label" 1 'already exists' \
	cer token init --label root-hsm --transcript "$TR"
expect_fail "token init needs a transcript" 2 'transcript FILE is required' \
	cer token init --label other

for type in ec-p384 ec-p256 rsa-3072 rsa-4096; do
	expect_ok "key generate $type" cer key generate --token root-hsm --label "k-$type" --type "$type" --transcript "$TR"
done
check "four key.generate records" test "$(grep -c '"action":"key.generate"' "$TR")" -eq 4
check "evidence recorded: LOCAL, ALWAYS_SENSITIVE, WRAP_WITH_TRUSTED" \
	grep -q '"CKA_LOCAL":true,"CKA_ALWAYS_SENSITIVE":true,"CKA_NEVER_EXTRACTABLE":false' "$TR"

# OpenSC, not our code, reads the key's attributes back.
objs=$(pkcs11-tool --module "$CEREMONY_MODULE" --token-label root-hsm --login --pin "$(cat "$T/pins/user")" --list-objects --type privkey 2>/dev/null)
check "pkcs11-tool sees 4 private keys" test "$(printf '%s\n' "$objs" | grep -c 'Private Key Object')" -eq 4
check "pkcs11-tool: private key is sensitive" bash -c "printf '%s\n' \"\$1\" | grep -A12 'label:      k-ec-p384' | grep -q 'Access:.*sensitive'" _ "$objs"
check "pkcs11-tool: private key is local" bash -c "printf '%s\n' \"\$1\" | grep -A12 'label:      k-ec-p384' | grep -q 'local'" _ "$objs"
check "pkcs11-tool: private key usage is sign only" bash -c "printf '%s\n' \"\$1\" | grep -A12 'label:      k-ec-p384' | grep 'Usage:' | grep -qv 'decrypt'" _ "$objs"
check "pkcs11-tool: always sensitive" bash -c "printf '%s\n' \"\$1\" | grep -A12 'label:      k-ec-p384' | grep -q 'always sensitive'" _ "$objs"

before=$(wc -l <"$TR")
expect_fail "key generate refuses an existing label" 1 'already has an object labelled "k-ec-p384"' \
	cer key generate --token root-hsm --label k-ec-p384 --type ec-p384 --transcript "$TR"
expect_fail "key generate refuses an unknown type" 1 'unknown key type "ec-p521"' \
	cer key generate --token root-hsm --label new --type ec-p521 --transcript "$TR"
expect_fail "key generate refuses an unknown token" 1 'token "nope" not found' \
	cer key generate --token nope --label new --type ec-p384 --transcript "$TR"
expect_fail "key generate refuses a wrong PIN" 1 'wrong PIN \(CKR_PIN_INCORRECT\)' \
	"$CEREMONY" --pin-source "file:$T/pins/wrong" key generate --token root-hsm --label new --type ec-p384 --transcript "$TR"
expect_fail "no PIN without a terminal or a pin-source" 1 'no terminal to ask for the user PIN' \
	setsid "$CEREMONY" key generate --token root-hsm --label new --type ec-p384 --transcript "$TR"
check "refusals added no transcript record" test "$(wc -l <"$TR")" -eq "$before"
n=$(pkcs11-tool --module "$CEREMONY_MODULE" --token-label root-hsm --login --pin "$(cat "$T/pins/user")" --list-objects --type privkey 2>/dev/null | grep -c 'Private Key Object')
check "refusals created no key" test "$n" -eq 4

# Tokens by RFC 7512 URI.
serial=$("$CEREMONY" token list | awk '/serial:/ {print $2; exit}')
expect_ok "key show by PKCS#11 URI" cer key show --token "pkcs11:token=root-hsm;serial=$serial" --label k-ec-p256
expect_fail "a malformed URI is refused" 1 'not a valid PKCS#11 token URI' \
	cer key show --token "pkcs11:token=%zz" --label k-ec-p256
out=$(cer key show --token root-hsm --label k-ec-p384)
check "key show prints the SPKI fingerprint" bash -c "printf '%s' \"\$1\" | grep -qE 'SPKI sha256 +([0-9a-f]{4} ){15}[0-9a-f]{4}'" _ "$out"
spki=$(pkcs11-tool --module "$CEREMONY_MODULE" --token-label root-hsm --read-object --type pubkey --label k-ec-p256 2>/dev/null | openssl pkey -pubin -inform DER -outform DER 2>/dev/null | sha256sum | cut -c1-64)
shown=$(cer key show --token root-hsm --label k-ec-p256 | awk '/SPKI sha256/ {for (i=3;i<=NF;i++) printf "%s", $i}')
check "SPKI fingerprint matches pkcs11-tool's public key" test "$spki" = "$shown"
check "the PIN is not in the transcript" bash -c "! grep -q 'user-pin-1234\|so-pin-0000' '$TR'"
expect_ok "module from ceremony.yaml" bash -c "cd '$T' && printf 'module: %s\n' '$CEREMONY_MODULE' >ceremony.yaml && env -u CEREMONY_MODULE '$CEREMONY' token list"
expect_fail "a PIN in ceremony.yaml is refused" 1 'looks like a secret' \
	bash -c "cd '$T' && printf 'module: x\nuser_pin: 1234\n' >bad.yaml && env -u CEREMONY_MODULE '$CEREMONY' --config bad.yaml token list"
: >"$T/empty.yaml"
expect_fail "no module configured" 2 'no PKCS#11 module' env -u CEREMONY_MODULE "$CEREMONY" --config "$T/empty.yaml" token list
finish

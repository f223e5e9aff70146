#!/usr/bin/env bash
# The transcript: hash chain, fsync'd records, CMS seal, and tamper detection.
. "$(dirname "$0")/lib.sh"
setup_hsm
TR=$T/transcripts/root-keygen.jsonl
PROFILE=$T/profiles/root.yaml
new_token root-hsm "$TR"
cer key generate --token root-hsm --label root-2026 --type ec-p384 --transcript "$TR" >/dev/null
cer cert root --token root-hsm --key root-2026 --profile "$PROFILE" \
	--subject "/C=DE/O=ACME Devices/CN=ACME Root" --out "$T/out/root.pem" --transcript "$TR" >/dev/null

check "four records, seq 1..4" test "$(grep -o '"seq":[0-9]*' "$TR" | tr "\n" " ")" = '"seq":1 "seq":2 "seq":3 "seq":4 '
check "the first record begins the ceremony" bash -c "head -1 '$TR' | grep -q '\"action\":\"ceremony.begin\".*\"previous\":null'"
first_prev=$(head -1 "$TR" | sed 's/.*"prev":"\([0-9a-f]*\)".*/\1/')
check "the first record carries a 256-bit nonce" test "${#first_prev}" -eq 64
line1=$(head -1 "$TR" | tr -d '\n' | sha256sum | cut -c1-64)
check "record 2's prev is the SHA-256 of line 1" bash -c "sed -n 2p '$TR' | grep -q '\"prev\":\"$line1\"'"
check "times are RFC 3339 UTC" grep -qE '"time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"' "$TR"
expect_fail "an unsealed transcript is not accepted by default" 1 'not sealed' \
	"$CEREMONY" transcript verify "$TR"
expect_ok "an unsealed transcript with --allow-unsealed" "$CEREMONY" transcript verify --allow-unsealed "$TR"

# The root key signs only certificates and CRLs: a seal by it is refused before anything
# is written; the ceremony-signing key the root certifies seals instead (issue 10.6).
cp "$TR" "$T/transcripts/by-root.jsonl"
expect_fail "the root key cannot seal" 1 'a CA certificate; seals are made by the ceremony-signing key' \
	cer transcript seal --token root-hsm --key root-2026 --cert "$T/out/root.pem" "$T/transcripts/by-root.jsonl"
check "... and no seal was written" test ! -e "$T/transcripts/by-root.jsonl.sig"
rm "$T/transcripts/by-root.jsonl"
expect_ok "cert signer makes the ceremony-signing key and certificate" cer cert signer --token root-hsm --key root-2026 \
	--issuer "$T/out/root.pem" --profile "$T/profiles/ceremony-signer.yaml" --label signing \
	--out "$T/out/signer.pem" --transcript "$TR"
check "the signing key is never extractable (pkcs11-tool)" bash -c "pkcs11-tool --module '$CEREMONY_MODULE' --token-label root-hsm \
	--login --pin user-pin-1234 --list-objects --type privkey 2>/dev/null | grep -A8 'label: *signing' | grep -q 'never extractable'"
check "cert.signer records the certificate and the key's evidence" grep -q '"action":"cert.signer".*"CKA_NEVER_EXTRACTABLE":true' "$TR"
expect_ok "transcript seal" cer transcript seal --token root-hsm --key signing "$TR"
check "openssl cms -verify accepts the seal with its default purpose checks" openssl cms -verify -binary -inform DER -in "$TR.sig" \
	-content "$TR" -CAfile "$T/out/root.pem" -out /dev/null
check "the seal uses SHA-384 with the P-384 key" bash -c "openssl cms -cmsout -print -inform DER -in '$TR.sig' | grep -A1 'digestAlgorithm:' | grep -q sha384"
check "the seal offers no SMIMECapabilities" bash -c "! openssl cms -cmsout -print -inform DER -in '$TR.sig' | grep -qi 'smimeCapabilities'"
expect_ok "transcript verify with --root" "$CEREMONY" transcript verify --root "$T/out/root.pem" "$TR"
# Issue 9.10: without --root the seal is checked only against a key the transcript records.
expect_fail "transcript verify without --root is unanchored and fails" 1 'unanchored: the seal verifies only against a key the transcript itself records' \
	"$CEREMONY" transcript verify "$TR"
out=$("$CEREMONY" transcript verify --allow-unanchored "$TR" 2>&1)
check "--allow-unanchored accepts it and says so" bash -c "printf '%s' \"\$1\" | grep -q 'Seal UNANCHORED' && printf '%s' \"\$1\" | grep -q 'Verdict: OK (unanchored)'" _ "$out"
expect_fail "a sealed transcript is not appended to" 1 'is sealed' \
	cer key generate --token root-hsm --label other --type ec-p256 --transcript "$TR"
expect_fail "a transcript is not sealed twice" 1 'already exists' \
	cer transcript seal --token root-hsm --key signing "$TR"

# Tampering: work on copies next to the original so recorded paths still resolve.
# The tampered copies break the schema on purpose (lib.sh's schema check skips them).
SCHEMA_SKIP="byte.jsonl lastbyte.jsonl removed.jsonl swapped.jsonl truncated.jsonl resealed.jsonl badsig.jsonl"
tamper() { # NAME -> path of a fresh copy (with its seal)
	cp "$TR" "$T/transcripts/$1.jsonl"
	cp "$TR.sig" "$T/transcripts/$1.jsonl.sig"
	echo "$T/transcripts/$1.jsonl"
}
c=$(tamper byte)
sed -i '2s/"token.init"/"token.inix"/' "$c"
expect_fail "one changed byte is caught at the next line" 1 'line 3: prev does not match the SHA-256 of line 2' \
	"$CEREMONY" transcript verify "$c"
c=$(tamper lastbyte)
sed -i '5s/"cert.signer"/"cert.signex"/' "$c"
expect_fail "a changed last line is caught by the seal" 1 'sig: seal by .*: the CMS signature does not verify' \
	"$CEREMONY" transcript verify "$c"
c=$(tamper removed)
sed -i '3d' "$c"
expect_fail "a removed line is caught" 1 'line 3: seq is 4, expected 3' "$CEREMONY" transcript verify "$c"
c=$(tamper swapped)
{ sed -n 1,2p "$TR"; sed -n 4p "$TR"; sed -n 3p "$TR"; } >"$c"
expect_fail "two swapped lines are caught" 1 'line 3: seq is 4, expected 3' "$CEREMONY" transcript verify "$c"
c=$(tamper truncated)
head -c -1 "$TR" >"$c"
expect_fail "a cut-short last line is caught" 1 'line 5: incomplete' "$CEREMONY" transcript verify "$c"
c=$(tamper resealed)
rm "$c.sig"
sed -i '2s/"token.init"/"token.inix"/' "$c"
expect_fail "an edited, unsealed copy fails" 1 'line 3: prev does not match' "$CEREMONY" transcript verify --allow-unsealed "$c"
c=$(tamper badsig)
printf 'garbage' >"$c.sig"
expect_fail "a damaged seal is caught" 1 'not a DER CMS structure' "$CEREMONY" transcript verify "$c"

# A changed output file.
cp "$T/out/root.pem" "$T/root.pem.orig"
cer key generate --token root-hsm --label other --type ec-p256 --transcript "$T/transcripts/other.jsonl" >/dev/null
cer cert root --token root-hsm --key other --profile "$PROFILE" --subject "/CN=Other" \
	--out "$T/out/other.pem" --transcript "$T/transcripts/other.jsonl" >/dev/null
chmod u+w "$T/out/root.pem"
cp "$T/out/other.pem" "$T/out/root.pem"
expect_fail "a changed output file is caught and its line named" 1 'line 4: output out/root.pem has changed' \
	"$CEREMONY" transcript verify --allow-unanchored "$TR"
cp "$T/root.pem.orig" "$T/out/root.pem"
cer cert signer --token root-hsm --key other --issuer "$T/out/other.pem" --profile "$T/profiles/ceremony-signer.yaml" \
	--label other-signing --out "$T/out/other-signer.pem" --transcript "$T/transcripts/other.jsonl" >/dev/null
expect_fail "a seal by another root's signing key is refused against the root" 1 'seal by .*Other Ceremony Signing: the CMS signature does not verify' \
	bash -c "cp '$T/transcripts/other.jsonl' '$T/transcripts/o2.jsonl' && '$CEREMONY' --pin-source 'file:$T/pins/user' transcript seal --token root-hsm --key other-signing --cert '$T/out/other-signer.pem' '$T/transcripts/o2.jsonl' >/dev/null && '$CEREMONY' transcript verify --root '$T/out/root.pem' '$T/transcripts/o2.jsonl'"
rm "$T/out/root.pem"
expect_ok "a missing output is reported, not failed" "$CEREMONY" transcript verify --allow-unanchored "$TR"
check "no secret in any transcript" bash -c "! grep -rq 'user-pin-1234\|so-pin-0000' '$T/transcripts'"
finish

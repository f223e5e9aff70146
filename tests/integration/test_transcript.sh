#!/usr/bin/env bash
# The transcript: hash chain, fsync'd records, CMS seal, and tamper detection.
. "$(dirname "$0")/lib.sh"
setup_hsm
TR=$T/transcripts/root-keygen.jsonl
PROFILE=$PWD/ceremony-scripts/profiles/root.yaml
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

expect_ok "transcript seal" cer transcript seal --token root-hsm --key root-2026 "$TR"
check "openssl cms -verify accepts the seal" openssl cms -verify -binary -inform DER -in "$TR.sig" \
	-content "$TR" -CAfile "$T/out/root.pem" -purpose any -out /dev/null
expect_ok "transcript verify with --root" "$CEREMONY" transcript verify --root "$T/out/root.pem" "$TR"
expect_ok "transcript verify without --root" "$CEREMONY" transcript verify "$TR"
expect_fail "a sealed transcript is not appended to" 1 'is sealed' \
	cer key generate --token root-hsm --label other --type ec-p256 --transcript "$TR"
expect_fail "a transcript is not sealed twice" 1 'already exists' \
	cer transcript seal --token root-hsm --key root-2026 "$TR"

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
sed -i '4s/"cert.root"/"cert.roox"/' "$c"
expect_fail "a changed last line is caught by the seal" 1 'sig: the CMS signature does not verify' \
	"$CEREMONY" transcript verify "$c"
c=$(tamper removed)
sed -i '3d' "$c"
expect_fail "a removed line is caught" 1 'line 3: seq is 4, expected 3' "$CEREMONY" transcript verify "$c"
c=$(tamper swapped)
{ sed -n 1,2p "$TR"; sed -n 4p "$TR"; sed -n 3p "$TR"; } >"$c"
expect_fail "two swapped lines are caught" 1 'line 3: seq is 4, expected 3' "$CEREMONY" transcript verify "$c"
c=$(tamper truncated)
head -c -1 "$TR" >"$c"
expect_fail "a cut-short last line is caught" 1 'line 4: incomplete' "$CEREMONY" transcript verify "$c"
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
expect_fail "a changed output file is caught and its line named" 1 'line 4: output ../out/root.pem has changed' \
	"$CEREMONY" transcript verify "$TR"
cp "$T/root.pem.orig" "$T/out/root.pem"
expect_fail "a seal by another key is refused against the root" 1 'not made by the given root' \
	bash -c "cp '$T/transcripts/other.jsonl' '$T/transcripts/o2.jsonl' && '$CEREMONY' --pin-source 'file:$T/pins/user' transcript seal --token root-hsm --key other --cert '$T/out/other.pem' '$T/transcripts/o2.jsonl' >/dev/null && '$CEREMONY' transcript verify --root '$T/out/root.pem' '$T/transcripts/o2.jsonl'"
rm "$T/out/root.pem"
expect_ok "a missing output is reported, not failed" "$CEREMONY" transcript verify "$TR"
check "no secret in any transcript" bash -c "! grep -rq 'user-pin-1234\|so-pin-0000' '$T/transcripts'"
finish

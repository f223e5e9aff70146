#!/usr/bin/env bash
# The fuzz harnesses (tests/fuzz/) over real seeds, each mutated a few thousand
# times by the deterministic driver: the parsers of everything that comes from
# outside (CSRs, backup blobs, SLIP-39 shares, YAML, sealed-share headers) must
# refuse, never crash (under SANITIZE=1, never trip ASan/UBSan). `make fuzz`
# runs them open-ended with libFuzzer.
. "$(dirname "$0")/lib.sh"
setup_hsm
F=$(dirname "$CEREMONY")/fuzz
mkdir -p "$T/seeds"
S=$T/seeds
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout /dev/null -subj "/C=DE/O=ACME/CN=Fuzz" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "certificatePolicies=1.3.6.1.4.1.32473.1.1" -out "$S/p256.csr" 2>/dev/null
openssl req -in "$S/p256.csr" -outform DER -out "$S/p256.der"
openssl req -new -nodes -newkey rsa:2048 -keyout /dev/null -subj "/CN=rsa/serialNumber=1" -out "$S/rsa.csr" 2>/dev/null
printf '%s' "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" >"$S/secret.hex"
"$CEREMONY" share split --threshold 2 --shares 3 --secret-source "file:$S/secret.hex" 2>/dev/null | head -1 | tr -d '\n' >"$S/mnemonic.txt"
# A real backup blob.
new_token root-hsm "$T/transcripts/f.jsonl"
new_token card-a "$T/transcripts/f.jsonl"
new_token card-b "$T/transcripts/f.jsonl"
cer key generate --token root-hsm --label root --type ec-p256 --transcript "$T/transcripts/f.jsonl" >/dev/null
printf 'first fuzz passphrase, long enough' >"$T/pins/pa"
printf 'second fuzz passphrase, long enough' >"$T/pins/pb"
cer backup create --test-cost --token root-hsm --key root --threshold 2 --shares 2 --cards card-a,card-b \
	--card-pin-sources "file:$T/pins/user,file:$T/pins/user" --passphrase-sources "file:$T/pins/pa,file:$T/pins/pb" \
	--out "$S/root.blob" --internal-record "$T/internal.json" --transcript "$T/transcripts/f.jsonl" >/dev/null
check "seeds were made" test -s "$S/p256.der" -a -s "$S/mnemonic.txt" -a -s "$S/root.blob"
run() { # NAME HARNESS SEEDS...
	local name=$1 h=$2 out
	shift 2
	if out=$("$F/$h" "$@" 2>&1); then pass "$name: $(printf '%s' "$out" | tail -1)"; else fail "$name" "$(printf '%s' "$out" | tail -5)"; fi
}
run "CSR parser and checks" fuzz_csr "$S/p256.csr" "$S/p256.der" "$S/rsa.csr"
run "backup blob parser" fuzz_backupblob "$S/root.blob"
run "SLIP-39 share decoding" fuzz_slip39 "$S/mnemonic.txt"
run "YAML and sealed-share headers" fuzz_yaml ceremony-scripts/profiles/*.yaml ceremony-scripts/root-key-generation.yaml
finish

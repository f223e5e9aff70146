#!/usr/bin/env bash
# make demo's script, run into a temporary folder: it must finish and verify.
. "$(dirname "$0")/lib.sh"
D=$(mktemp -d /tmp/ceremony-demo.XXXXXX)
trap 'rm -rf "$D"' EXIT
out=$(DEMO_DIR="$D/demo" CEREMONY="$CEREMONY" ceremony-scripts/demo.sh 2>&1)
rc=$?
if [ $rc -eq 0 ]; then pass "demo runs to the end"; else fail "demo runs to the end" "$out"; fi
check "demo prints the root fingerprint" bash -c "printf '%s' \"\$1\" | grep -q 'sha256 fingerprint'" _ "$out"
check "demo verifies its transcript" bash -c "printf '%s' \"\$1\" | grep -q 'Verdict: OK'" _ "$out"
check "demo made root.pem" openssl verify -x509_strict -CAfile "$D/demo/out/root.pem" "$D/demo/out/root.pem"
for f in intermediate legacy-tpm masa; do
	check "demo made $f.pem and its chain" bash -c "test -s '$D/demo/out/$f.pem' && test -s '$D/demo/out/$f-chain.pem'"
done
check "demo's MASA carries the voucher policy" openssl verify -x509_strict -policy 1.3.6.1.4.1.32473.1.2 -explicit_policy -CAfile "$D/demo/out/root.pem" "$D/demo/out/masa.pem"
check "demo's intermediate never expires" bash -c "openssl x509 -in '$D/demo/out/intermediate.pem' -noout -enddate | grep -q 9999"
check "demo's CRL verifies and revokes one serial" bash -c "openssl crl -in '$D/demo/out/root.crl' -CAfile '$D/demo/out/root.pem' -verify -noout -text 2>&1 | grep -q '0DEC0DE0DEC0DE01'"
check "demo's signing transcript verifies" "$CEREMONY" transcript verify --root "$D/demo/out/root.pem" "$D/demo/transcripts/signing.jsonl"
check "a second run replaces the demo folder" bash -c "DEMO_DIR='$D/demo' CEREMONY='$CEREMONY' ceremony-scripts/demo.sh"
mkdir -p "$D/notdemo" && touch "$D/notdemo/keep"
expect_fail "a folder that is not a demo is left alone" 1 'not a demo folder' \
	env DEMO_DIR="$D/notdemo" CEREMONY="$CEREMONY" ceremony-scripts/demo.sh
check "its file is still there" test -f "$D/notdemo/keep"
finish

#!/usr/bin/env bash
# Requests pinned before the day (issue 16): cert sign --expect-spki/--expect-subject/
# --expect-file checked before the login, refusals recorded with both keys in PGP
# words, profiles that require pins, and a signing ceremony whose CSR was swapped on
# the medium for another valid one (same subject, new key): refused at the first
# check, nothing signed.
. "$(dirname "$0")/lib.sh"
setup_hsm
P=$PWD/ceremony-scripts/profiles
make_root pin-hsm root ec-p384 "$T/transcripts/0001-root.jsonl" "$T/out/root.pem"
ROOT=$T/out/root.pem
TR=$T/transcripts/0002-sign.jsonl
M=$T/media
mkdir -p "$M/csr" "$M/out" "$T/keys"
SUBJ="/C=DE/O=ACME Devices/CN=ACME Factory 7 IDevID CA"
req() { # FILE SUBJECT
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/keys/$(basename "$1").key" \
		-subj "$2" -out "$1" 2>/dev/null || fatal "openssl req $1"
}
spki() { openssl req -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64; }
sign() { # CSR OUT [args]: cert sign under the intermediate profile
	local csr=$1 out=$2
	shift 2
	cer cert sign --token pin-hsm --key root --issuer "$ROOT" --profile "$P/intermediate-ca.yaml" \
		--csr "$csr" --out "$out" --transcript "$TR" "$@"
}
req "$T/agreed.csr" "$SUBJ"
req "$T/swapped.csr" "$SUBJ"
PIN=$(spki "$T/agreed.csr")

# The file on the medium is another valid request with the same subject: refused
# before the login (a wrong PIN would otherwise be the error), nothing signed.
cp "$T/swapped.csr" "$M/csr/f7.csr"
err=$("$CEREMONY" --pin-source "file:$T/pins/wrong" cert sign --token pin-hsm --key root --issuer "$ROOT" \
	--profile "$P/intermediate-ca.yaml" --csr "$M/csr/f7.csr" --out "$M/out/f7.pem" --transcript "$TR" \
	--expect-spki "$PIN" --expect-subject "$SUBJ" 2>&1 >/dev/null)
rc=$?
check "a swapped request is refused" test "$rc" -eq 1
check "before the login (a wrong PIN is not what stopped it)" bash -c "printf '%s' \"\$1\" | grep -q 'its key is not the pinned key' && ! printf '%s' \"\$1\" | grep -qi 'wrong PIN'" _ "$err"
check "both keys in PGP words" bash -c "printf '%s' \"\$1\" | grep -qE 'expected SPKI SHA-256 \"[A-Za-z]+ [A-Za-z]+ .*\", the request has \"[A-Za-z]+ '" _ "$err"
check "nothing was written" test ! -e "$M/out/f7.pem" -a ! -e "$M/out/f7-chain.pem"
check "the refusal is recorded, as pinned" bash -c "grep '\"action\":\"cert.refused\"' '$TR' | grep -q '\"pinned\":true'"
check "no certificate was recorded" test "$(grep -c '"action":"cert.issue"' "$TR")" -eq 0

# The agreed file: signed; the record says it was pinned.
cp "$T/agreed.csr" "$M/csr/f7.csr"
expect_ok "the agreed request is signed" sign "$M/csr/f7.csr" "$M/out/f7.pem" --expect-spki "$PIN" --expect-subject "$SUBJ"
check "its record says the request was pinned" bash -c "grep '\"action\":\"cert.issue\"' '$TR' | grep -q '\"request_pinned\":true'"
check "openssl verifies it" openssl verify -CAfile "$ROOT" "$M/out/f7.pem"

# A subject that is not the agreed one.
req "$M/csr/f8.csr" "/C=DE/O=ACME Devices/CN=ACME Factory 8 IDevID CA"
expect_fail "a request with another subject is refused" 1 'its subject is not the pinned subject: expected "/C=DE/O=ACME Devices/CN=ACME Factory 9 IDevID CA"' \
	sign "$M/csr/f8.csr" "$M/out/f8.pem" --expect-spki "$(spki "$M/csr/f8.csr")" --expect-subject "/C=DE/O=ACME Devices/CN=ACME Factory 9 IDevID CA"
expect_fail "a pin without its subject is a usage error" 2 'give both --expect-spki and --expect-subject' \
	sign "$M/csr/f8.csr" "$M/out/f8.pem" --expect-spki "$(spki "$M/csr/f8.csr")"
check "nothing was written for them" test ! -e "$M/out/f8.pem"

# The shipped CA profiles require pins (requests_pinned: true): an unpinned CA
# request is refused before the login (a wrong PIN is not what stops it), recorded,
# nothing written; the same request pinned is signed. Pins from OpenSSL (lib.sh).
for prof in intermediate-ca idevid-ca-rsa; do
	check "$prof.yaml sets requests_pinned: true" grep -qx 'requests_pinned: true' "$P/$prof.yaml"
	case $prof in
	intermediate-ca) keyopt=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
	*) keyopt=(-newkey rsa:3072) ;;
	esac
	openssl req -new -nodes "${keyopt[@]}" -keyout "$T/keys/u-$prof.key" \
		-subj "/C=DE/O=ACME Devices/CN=ACME Unpinned $prof" -out "$M/csr/u-$prof.csr" 2>/dev/null || fatal "openssl req u-$prof"
	refused_before=$(grep -c '"action":"cert.refused"' "$TR")
	err=$("$CEREMONY" --pin-source "file:$T/pins/wrong" cert sign --token pin-hsm --key root --issuer "$ROOT" \
		--profile "$P/$prof.yaml" --csr "$M/csr/u-$prof.csr" --out "$M/out/u-$prof.pem" --transcript "$TR" 2>&1 >/dev/null)
	rc=$?
	check "$prof: an unpinned CA request is refused" test "$rc" -eq 1
	check "$prof: ... with the clear message, before the login" bash -c "printf '%s' \"\$1\" | grep -q 'u-$prof.csr: refused: no pinned key and subject for this request (the profile requires them)' && ! printf '%s' \"\$1\" | grep -qi 'wrong PIN'" _ "$err"
	check "$prof: ... nothing written" test ! -e "$M/out/u-$prof.pem" -a ! -e "$M/out/u-$prof-chain.pem"
	check "$prof: ... the refusal is recorded" test "$(grep -c '"action":"cert.refused"' "$TR")" -eq $((refused_before + 1))
	check "$prof: ... nothing signed" bash -c "! grep '\"action\":\"cert.issue\"' '$TR' | grep -q 'u-$prof'"
	expect_ok "$prof: the same request pinned is signed" cer cert sign --token pin-hsm --key root --issuer "$ROOT" \
		--profile "$P/$prof.yaml" --csr "$M/csr/u-$prof.csr" --out "$M/out/u-$prof.pem" --transcript "$TR" \
		--expect-spki "$(spki "$M/csr/u-$prof.csr")" --expect-subject "/C=DE/O=ACME Devices/CN=ACME Unpinned $prof"
	check "$prof: ... openssl verifies it" openssl verify -CAfile "$ROOT" "$M/out/u-$prof.pem"
	check "$prof: ... recorded as pinned" bash -c "grep '\"action\":\"cert.issue\"' '$TR' | grep 'u-$prof' | grep -q '\"request_pinned\":true'"
done
# The lib.sh helper's pins (openssl's SPKI and subject) are the ones cert sign checks.
expect_eq "pins_for writes name, OpenSSL's SPKI SHA-256 and subject" \
	"f8.csr $(spki "$M/csr/f8.csr") /C=DE/O=ACME Devices/CN=ACME Factory 8 IDevID CA" "$(cat "$(pins_for "$M/csr/f8.csr")")"

# A batch pinned by a file of "name spki subject" lines; a pin naming no request.
mkdir -p "$T/batch" "$T/batch-out"
for i in 1 2 3; do req "$T/batch/b$i.csr" "/C=DE/O=ACME Devices/CN=ACME Line $i CA"; done
{
	echo "# agreed before the day"
	for i in 1 2 3; do echo "b$i.csr $(spki "$T/batch/b$i.csr") /C=DE/O=ACME Devices/CN=ACME Line $i CA"; done
} >"$T/pins.txt"
expect_ok "a batch pinned by --expect-file" cer cert sign --token pin-hsm --key root --issuer "$ROOT" \
	--profile "$P/intermediate-ca.yaml" --csr-dir "$T/batch" --out-dir "$T/batch-out" --transcript "$TR" --expect-file "$T/pins.txt"
check "the batch's three pinned certificates (six pinned in all)" test "$(grep '"action":"cert.issue"' "$TR" | grep -c '"request_pinned":true')" -eq 6
mkdir -p "$T/batch2" "$T/batch2-out"
req "$T/batch2/c1.csr" "/C=DE/O=ACME Devices/CN=ACME Line 9 CA"
expect_fail "a pin that names no request of the call is a usage error" 2 'c2.csr, which is not a request of this call' \
	cer cert sign --token pin-hsm --key root --issuer "$ROOT" --profile "$P/intermediate-ca.yaml" \
	--csr-dir "$T/batch2" --out-dir "$T/batch2-out" --transcript "$TR" \
	--expect-spki "c1.csr:$(spki "$T/batch2/c1.csr")" --expect-subject "c1.csr:/C=DE/O=ACME Devices/CN=ACME Line 9 CA" \
	--expect-spki "c2.csr:$(spki "$T/batch2/c1.csr")" --expect-subject "c2.csr:/C=DE/O=ACME Devices/CN=ACME Line 9 CA"

# The signing ceremony: the factory-1 CSR on the medium swapped for another valid
# one (same subject, new key) after the site pinned the original.
. "$SRC_ROOT/ceremony-scripts/demo-site.sh"
SITE_TOOLKIT=$(dirname "$CEREMONY")/toolkit make_site "$T/site"
run_script root-key-generation 0001-root >"$T/run1.log" 2>&1 || fatal "root key generation: $(tail -3 "$T/run1.log")"
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/keys/evil.key" \
	-subj "/C=DE/O=ACME Devices/CN=ACME Factory 1 IDevID CA" -out "$SITE/media/csr/factory-1.csr" 2>/dev/null
run_script signing 0002-signing 0001-root >"$T/run2.log" 2>"$T/run2.err"
rc=$?
check "the ceremony with a swapped CSR fails" test "$rc" -ne 0
check "it stopped at the first check, naming the pinned key" grep -q 'factory-1.csr: refused: its key is not the pinned key' "$T/run2.err"
check "before the first step" bash -c "! grep -q '\"action\":\"step.done\"' '$SITE/transcripts/0002-signing.jsonl'"
check "the refusal is recorded" grep -q '"action":"ceremony.request_refused"' "$SITE/transcripts/0002-signing.jsonl"
check "nothing was signed" bash -c "! grep -q '\"action\":\"cert.issue\"' '$SITE/transcripts/0002-signing.jsonl' && test -z \"\$(ls '$SITE/media/out')\""
check "the script's pins are recorded at the start" bash -c "grep '\"action\":\"ceremony.start\"' '$SITE/transcripts/0002-signing.jsonl' | grep -q '\"requests\":\\['"
finish

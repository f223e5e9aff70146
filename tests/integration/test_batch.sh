#!/usr/bin/env bash
# cert sign --csr-dir: batches past the old 256 limit, outputs checked before the
# login, a fault mid-batch that says what was issued and a rerun that finishes the
# batch, and kill -9 at random points: every certificate the transcript records is
# on disk with its recorded hash, and reruns end with each request issued once.
. "$(dirname "$0")/lib.sh"
setup_hsm
P=$PWD/ceremony-scripts/profiles
make_root root-hsm root ec-p384 "$T/transcripts/0001-root.jsonl" "$T/out/root.pem"
ROOT=$T/out/root.pem
csrs() { python3 tests/bench/make_csrs.py "$1" "$2" "$3" || fatal "make_csrs.py $*"; }
batch() { # CSR-DIR OUT-DIR TRANSCRIPT
	cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$P/intermediate-ca.yaml" \
		--csr-dir "$1" --out-dir "$2" --transcript "$3" --expect-file "$(pins_for "$1")"
}
# Every cert.issue record's outputs are there with the recorded SHA-256.
recorded_outputs_ok() { # TRANSCRIPT
	local dir
	dir=$(dirname "$(dirname "$1")") # recorded paths are relative to the CA's archive
	[ -f "$1" ] || return 0
	jq -r 'select(.action == "cert.issue") | .outputs[] | "\(.sha256)  \(.path)"' "$1" |
		(cd "$dir" && sha256sum --quiet -c -) >/dev/null 2>&1
}

# Two requests that would write one certificate: refused before anything.
mkdir -p "$T/dup" "$T/dup-out"
csrs "$T/dup" 2 dup
openssl req -in "$T/dup/dup-0002.csr" -outform DER -out "$T/dup/dup-0001.der"
expect_fail "a.csr and a.der for one output are refused up front" 2 'dup-0001.csr and dup-0001.der would both be signed into dup-0001.pem' \
	batch "$T/dup" "$T/dup-out" "$T/transcripts/0002-dup.jsonl"
check "nothing written for the refused batch" test -z "$(ls "$T/dup-out")"
check "no transcript started for it" test ! -e "$T/transcripts/0002-dup.jsonl"

# More than the old limit of 256 requests in one call.
csrs "$T/big" 300 big
mkdir -p "$T/big-out"
TR=$T/transcripts/0003-big.jsonl
expect_ok "300 requests in one call" batch "$T/big" "$T/big-out" "$TR"
check "300 certificates and chains" test "$(ls "$T/big-out" | wc -l)" -eq 600
check "openssl verifies all 300" bash -c "openssl verify -x509_strict -CAfile '$ROOT' '$T'/big-out/big-0???.pem | grep -c ': OK\$' | grep -qx 300"
check "300 cert.issue records" test "$(grep -c '"action":"cert.issue"' "$TR")" -eq 300
check "300 distinct serials" test "$(jq -r 'select(.action == "cert.issue") | .details.certificate.serial' "$TR" | sort -u | wc -l)" -eq 300
check "every recorded output is on disk with its hash" recorded_outputs_ok "$TR"
check "the transcript verifies" "$CEREMONY" transcript verify --allow-unsealed "$TR"

# A fault at the third signature: two issued, said so; a rerun issues the rest.
SHIM=$(dirname "$CEREMONY")/faultp11.so
if [ -f "$SHIM" ]; then
	csrs "$T/f" 6 f
	mkdir -p "$T/f-out"
	TRF=$T/transcripts/0004-fault.jsonl
	err=$(FAULTP11_MODULE=$CEREMONY_MODULE CEREMONY_MODULE=$SHIM FAULTP11_FUNC=C_Sign FAULTP11_FAIL=3 \
		batch "$T/f" "$T/f-out" "$TRF" 2>&1 >/dev/null)
	rc=$?
	check "a fault at the third signature fails the call" test "$rc" -ne 0
	check "it says two of six were issued and that a rerun finishes" bash -c "printf '%s' \"\$1\" | grep -q '2 of 6 certificates were issued and recorded' && printf '%s' \"\$1\" | grep -q 'run the same command again'" _ "$err"
	check "the two are on disk, with chains" test "$(ls "$T/f-out" | wc -l)" -eq 4
	check "the two are recorded" test "$(grep -c '"action":"cert.issue"' "$TRF")" -eq 2
	check "the transcript verifies after the fault" "$CEREMONY" transcript verify --allow-unsealed "$TRF"
	out=$(batch "$T/f" "$T/f-out" "$TRF" 2>&1)
	check "the rerun succeeds and skips the two" bash -c "printf '%s' \"\$1\" | grep -q '2 requests were already issued by an earlier call, skipped' && printf '%s' \"\$1\" | grep -q '^4 certificates issued'" _ "$out"
	check "six certificates, each recorded once" test "$(jq -r 'select(.action == "cert.issue") | .outputs[0].path' "$TRF" | sort | uniq -c | awk '$1 == 1' | wc -l)" -eq 6
	check "openssl verifies the six" bash -c "openssl verify -CAfile '$ROOT' '$T'/f-out/f-000?.pem | grep -c ': OK\$' | grep -qx 6"
	# A fault in the second group (signature 100 of 150): the first group's commit ran
	# while the second was being signed; every group's files and records still agree,
	# each "Issued" line is a recorded certificate, and a rerun finishes.
	csrs "$T/g" 150 g
	mkdir -p "$T/g-out"
	TRG=$T/transcripts/0006-fault2.jsonl
	FAULTP11_MODULE=$CEREMONY_MODULE CEREMONY_MODULE=$SHIM FAULTP11_FUNC=C_Sign FAULTP11_FAIL=100 \
		batch "$T/g" "$T/g-out" "$TRG" >"$T/g.out" 2>"$T/g.err"
	rc=$?
	n=$(grep -c '"action":"cert.issue"' "$TRG")
	check "a fault at the 100th signature fails the call" test "$rc" -ne 0
	check "the first group of 64 and the second's before the fault are recorded" test "$n" -ge 99
	check "the report counts what is recorded" grep -q "$n of 150 certificates were issued and recorded" "$T/g.err"
	check "each Issued line is a recorded certificate" test "$(grep -c '^Issued ' "$T/g.out")" -eq "$n"
	check "every recorded output is on disk with its hash after the fault" recorded_outputs_ok "$TRG"
	check "the transcript verifies after the second group's fault" "$CEREMONY" transcript verify --allow-unsealed "$TRG"
	check "the rerun finishes the 150" batch "$T/g" "$T/g-out" "$TRG"
	check "150 certificates, each recorded once" test "$(jq -r 'select(.action == "cert.issue") | .outputs[0].path' "$TRG" | sort | uniq -c | awk '$1 == 1' | wc -l)" -eq 150
else
	skip "a fault mid-batch" "$SHIM is not built"
fi

# kill -9 at random points, then reruns: each request issued and recorded exactly once.
# KN requests: enough that a batch outlasts the 20 ms polls below on a fast machine.
KN=360
csrs "$T/k" "$KN" k
mkdir -p "$T/k-out"
TRK=$T/transcripts/0005-kill.jsonl
KPINS=$(pins_for "$T/k")
consistent=0
interrupted=0
for round in 1 2 3 4 5 6; do
	setsid "$CEREMONY" --pin-source "file:$T/pins/user" cert sign --token root-hsm --key root \
		--issuer "$ROOT" --profile "$P/intermediate-ca.yaml" --csr-dir "$T/k" --out-dir "$T/k-out" \
		--transcript "$TRK" --expect-file "$KPINS" >/dev/null 2>&1 &
	pid=$!
	# A random point: once the folder holds a random number of new files (of the
	# 2 x KN to write), at once or a random few milliseconds later.
	base=$(ls "$T/k-out" | wc -l)
	target=$((base + RANDOM % ((2 * KN - base) * 3 / 4 + 1)))
	while kill -0 $pid 2>/dev/null && [ "$(ls "$T/k-out" | wc -l)" -lt "$target" ]; do sleep 0.02; done
	[ $((RANDOM % 2)) = 0 ] && sleep "0.0$((RANDOM % 10))"
	kill -9 -- -$pid 2>/dev/null
	wait $pid 2>/dev/null
	n=$( (grep -c '"action":"cert.issue"' "$TRK" 2>/dev/null || true) | tail -n1)
	echo "# kill round $round: ${n:-0} of $KN recorded"
	[ "${n:-0}" -lt "$KN" ] && interrupted=$((interrupted + 1))
	if [ ! -e "$TRK" ] || { "$CEREMONY" transcript verify --allow-unsealed "$TRK" >/dev/null 2>&1 && recorded_outputs_ok "$TRK"; }; then
		consistent=$((consistent + 1))
	else
		fail "kill round $round: the transcript and the recorded files agree"
	fi
done
check "after every kill, each recorded certificate is on disk with its hash" test "$consistent" -eq 6
check "the kills really interrupted the batch" test "$interrupted" -ge 1
for _ in 1 2 3; do batch "$T/k" "$T/k-out" "$TRK" >/dev/null 2>&1 && break; done
check "reruns finish the batch" batch "$T/k" "$T/k-out" "$TRK"
check "$KN certificates, each recorded exactly once" test "$(jq -r 'select(.action == "cert.issue") | .outputs[0].path' "$TRK" | sort | uniq -c | awk '$1 == 1' | wc -l)" -eq "$KN"
check "no request recorded twice" test "$(grep -c '"action":"cert.issue"' "$TRK")" -eq "$KN"
check "$KN distinct serials" test "$(jq -r 'select(.action == "cert.issue") | .details.certificate.serial' "$TRK" | sort -u | wc -l)" -eq "$KN"
check "openssl verifies all $KN" bash -c "openssl verify -x509_strict -CAfile '$ROOT' '$T'/k-out/k-0???.pem | grep -c ': OK\$' | grep -qx $KN"
check "each certificate is its request's key" bash -c "for i in \$(seq -f %04g 1 $KN); do a=\$(openssl req -in '$T/k'/k-\$i.csr -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum); b=\$(openssl x509 -in '$T/k-out'/k-\$i.pem -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum); [ \"\$a\" = \"\$b\" ] || exit 1; done"
check "the killed and rerun transcript verifies" "$CEREMONY" transcript verify --allow-unsealed "$TRK"
finish

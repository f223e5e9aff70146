#!/usr/bin/env bash
# A token fault is the token's, never the operator's file (issue 9: "root.pem is not
# the certificate of key" was printed for a PKCS#11 failure). Every command that
# compares a certificate file with a key on the token runs through our fault module
# (tests/faultp11); each PKCS#11 call before its first C_SignInit fails in turn. Each
# run must exit non-zero naming the CKR_ code, and never say the file "is not the
# certificate of key"; a run that gets past the fault (a call the command may skip)
# must still not blame the file. A wrong file, with no fault, is named as such (so
# the search can fail).
. "$(dirname "$0")/lib.sh"
setup_hsm
SHIM=$(dirname "$CEREMONY")/faultp11.so
[ -f "$SHIM" ] || { fail "the fault module is built" "$SHIM is missing (make check builds it)"; finish; }
P=$T/profiles
TR0=$T/transcripts/0001-root.jsonl
make_root root-hsm root ec-p256 "$TR0" "$T/out/root.pem"
cer cert signer --token root-hsm --key root --issuer "$T/out/root.pem" --profile "$P/ceremony-signer.yaml" \
	--label signing --out "$T/out/signer.pem" --transcript "$TR0" >/dev/null || fatal "cert signer"
# Two more roots: one whose certificate is "the wrong file", one to cross-certify.
make_root other-hsm other ec-p256 "$T/transcripts/other.jsonl" "$T/out/other.pem" "/C=DE/O=ACME Devices/CN=Other Root"
make_root third-hsm third ec-p256 "$T/transcripts/third.jsonl" "$T/out/third.pem" "/C=DE/O=ACME Devices/CN=Third Root"
# An RSA root: a flipped byte of its modulus is still a valid (other) public key.
make_root rsa-hsm rsaroot rsa-3072 "$T/transcripts/rsa.jsonl" "$T/out/rsa-root.pem" "/C=DE/O=ACME Devices/CN=RSA Root"
# A medium whose ceremony stopped after hashing it (media.manifest), for media sign.
M=$T/medium
mkdir -p "$M/csr" && printf 'a request\n' >"$M/csr/in.csr"
cat >"$T/m.yaml" <<YAML
ceremony: medium
title: a ceremony with a medium
vars: {m: "$M"}
roles: {CA: Administrator}
media: \${m}
acts:
  - title: a
    steps:
      - {role: CA, say: first, confirm: ok}
      - {role: CA, say: second, confirm: go on}
YAML
printf 'confirm_all: yes\nroles:\n  CA: {name: A, pin: "file:%s"}\nsteps:\n  "1.2": {confirm: "no", happened: "stopped", decision: abort, decided_by: CA}\n' \
	"$T/pins/user" >"$T/stop.yaml"
TRM=$T/transcripts/0002-medium.jsonl
"$CEREMONY" run "$T/m.yaml" --answers "$T/stop.yaml" --transcript "$TRM" >"$T/medium.log" 2>&1
grep -q '"action":"media.manifest"' "$TRM" || fatal "the medium's ceremony did not hash the medium"
printf 'written by the ceremony\n' >"$M/out.pem"
cp "$TRM" "$T/medium-transcript"

export FAULTP11_MODULE=$CEREMONY_MODULE
export CEREMONY_MODULE=$SHIM
TR=$T/transcripts/0003-blame.jsonl
cer key generate --token root-hsm --label spare --type ec-p256 --transcript "$TR" >/dev/null ||
	fatal "a transcript for the sweeps"
csr_for() { # NAME: a new key for each run (a key is certified once)
	[ -f "$T/$1.csr" ] || openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-keyout "$T/$1.key" -subj "/C=DE/O=ACME Devices/CN=ACME Factory $1 IDevID CA" -out "$T/$1.csr" 2>/dev/null
	echo "$T/$1.csr"
}

# op_NAME I CERT: the command, comparing CERT with the token's key.
op_certsign() {
	cer cert sign --token root-hsm --key root --issuer "$2" --profile "$P/intermediate-ca.yaml" \
		--csr "$(csr_for "int-$1")" --expect-file "$(pins_for "$(csr_for "int-$1")")" --out "$T/out/int-$1.pem" --transcript "$TR"
}
op_crlsign() {
	cer crl sign --token root-hsm --key root --issuer "$2" --next-update 30 --out "$T/out/crl-$1.crl" --transcript "$TR"
}
op_seal() {
	[ -f "$T/seal-$1.jsonl" ] || cp "$T/transcripts/other.jsonl" "$T/seal-$1.jsonl"
	cer transcript seal --token root-hsm --key signing --cert "$2" "$T/seal-$1.jsonl"
}
op_signer() {
	cer cert signer --token root-hsm --key root --issuer "$2" --profile "$P/ceremony-signer.yaml" \
		--label "signer-$1" --out "$T/out/signer-$1.pem" --transcript "$TR"
}
op_cross() {
	cer cert cross --token root-hsm --key root --issuer-cert "$2" --subject-cert "$T/out/third.pem" \
		--profile "$P/root.yaml" --out "$T/out/cross-$1.pem" --transcript "$TR"
}
op_mediasign() {
	cer media sign --token root-hsm --key signing --cert "$2" --transcript "$TRM" "$M"
}
reset_mediasign() { rm -f "$M/MANIFEST.sha256" "$M/MANIFEST.sha256.sig" && cp "$T/medium-transcript" "$TRM"; }
right_certsign=$T/out/root.pem right_crlsign=$T/out/root.pem right_signer=$T/out/root.pem right_cross=$T/out/root.pem
right_seal=$T/out/signer.pem right_mediasign=$T/out/signer.pem

BLAME_POINTS=0
# blame NAME: trace the command, then fail each call before its first C_SignInit.
blame() {
	local name=$1 right trace="$T/trace-$1" last i fn k err rc problems n=0
	right=right_$name
	right=${!right}
	rm -f "$trace"
	if ! FAULTP11_TRACE="$trace" op_"$name" 0 "$right" >"$T/out-$name" 2>&1; then
		fail "$name: runs without a fault" "$(cat "$T/out-$name")"
		return
	fi
	if declare -F reset_"$name" >/dev/null; then reset_"$name"; fi
	last=$(awk '$2 == "C_SignInit" {print NR - 1; exit}' "$trace")
	[ -n "$last" ] || last=$(wc -l <"$trace")
	for i in $(seq 1 "$last"); do
		fn=$(sed -n "${i}p" "$trace" | cut -d' ' -f2)
		k=$(head -n "$i" "$trace" | awk -v f="$fn" '$2 == f' | wc -l)
		err=$(FAULTP11_FUNC=$fn FAULTP11_FAIL=$k FAULTP11_RV=CKR_DEVICE_ERROR op_"$name" "$i" "$right" 2>&1 >/dev/null)
		rc=$?
		problems=""
		printf '%s' "$err" | grep -q 'is not the certificate of' &&
			problems="; it blames the operator's file"
		[ "$rc" -ne 0 ] && ! printf '%s' "$err" | grep -q CKR_DEVICE_ERROR &&
			problems="$problems; the message does not name CKR_DEVICE_ERROR"
		if declare -F reset_"$name" >/dev/null; then reset_"$name"; fi
		n=$((n + 1))
		if [ -z "$problems" ]; then
			pass "$name: $fn fails (call $i, its #$k): the token's fault$([ "$rc" -eq 0 ] && echo ' (survived)')"
		else
			fail "$name: $fn fails (call $i, its #$k)" "rc $rc${problems}; stderr: $err"
		fi
	done
	BLAME_POINTS=$((BLAME_POINTS + n))
	echo "# table: $name: $n calls before C_SignInit failed in turn"
	# The control: the wrong file, no fault, is the file's fault.
	expect_fail "$name: a certificate of another key is named as the wrong file" 1 'is not the certificate of key' \
		op_"$name" wrong "$T/out/other.pem"
	if declare -F reset_"$name" >/dev/null; then reset_"$name"; fi
}

for op in certsign crlsign seal signer cross mediasign; do blame "$op"; done
echo "# blame points: $BLAME_POINTS"

# A token that answers wrongly once (CKR_OK, a flipped byte: FAULTP11_CORRUPT) is
# caught by reading the key again before the file is blamed: each C_GetAttributeValue
# before the first C_SignInit of an RSA cert sign is corrupted in turn.
op_rsasign() {
	cer cert sign --token rsa-hsm --key rsaroot --issuer "$T/out/rsa-root.pem" --profile "$P/intermediate-ca.yaml" \
		--csr "$(csr_for "rsa-$1")" --expect-file "$(pins_for "$(csr_for "rsa-$1")")" --out "$T/out/rsa-$1.pem" --transcript "$TR"
}
rm -f "$T/trace-rsa"
FAULTP11_TRACE="$T/trace-rsa" op_rsasign 0 >/dev/null 2>&1 || fatal "the RSA cert sign runs without a fault"
last=$(awk '$2 == "C_SignInit" {print NR - 1; exit}' "$T/trace-rsa")
gets=$(head -n "$last" "$T/trace-rsa" | awk '$2 == "C_GetAttributeValue"' | wc -l)
caught=0 blamed=""
for k in $(seq 1 "$gets"); do
	err=$(FAULTP11_FUNC=C_GetAttributeValue FAULTP11_FAIL=$k FAULTP11_CORRUPT=1 op_rsasign "c$k" 2>&1 >/dev/null)
	printf '%s' "$err" | grep -q 'is not the certificate of' && blamed="$blamed #$k: $err"
	printf '%s' "$err" | grep -q 'gave two different public keys for key "rsaroot" (the token is failing' &&
		caught=$((caught + 1))
done
check "rsasign: no corrupted answer of the token ($gets tried) blames the operator's file" test -z "$blamed"
[ -n "$blamed" ] && echo "# $blamed"
check "rsasign: a corrupted public key is caught by the second read and named the token's fault" test "$caught" -ge 1
echo "# table: rsasign: $gets C_GetAttributeValue calls corrupted in turn, $caught caught by the second read"
finish

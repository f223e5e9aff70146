#!/usr/bin/env bash
# Every PKCS#11 call of an operation fails in turn, through our fault-injecting
# module (tests/faultp11) in front of SoftHSM2: the operation must fail closed,
# say which fault, write nothing, leave nothing unnamed, and work when rerun.
# FAULTS_FULL=1 fails every call of every operation (the default samples the
# read-only calls of the longer operations).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults_lib.sh"
setup_hsm
[ -f "$SHIM" ] || { fail "the fault module is built" "$SHIM is missing (make check builds it)"; finish; }
export FAULTP11_MODULE=$CEREMONY_MODULE
export CEREMONY_MODULE=$SHIM
TR=$T/transcripts/faults.jsonl
new_token root-hsm "$TR"

# key generate: every call.
op_keygen() { cer key generate --token root-hsm --label "k$1" --type ec-p256 --transcript "$TR"; }
outputs_keygen() { :; }
done_keygen() { grep -q "\"label\":\"k$1\"" "$TR"; }
sweep keygen all root-hsm

# Token removal after the key pair exists: the pair cannot be destroyed, so the
# message names it and the transcript records it.
n=$(awk '$2 == "C_GenerateKeyPair" {print NR; exit}' "$T/trace-keygen")
err=$(FAULTP11_FAIL=$((n + 1)) FAULTP11_REMOVE=1 op_keygen removed 2>&1 >/dev/null)
check "keygen: removal after the pair exists fails" test $? -ne 0
check "keygen: removal names the fault" grep -q CKR_DEVICE_REMOVED <<<"$err"
check "keygen: removal names the pair left on the token" grep -q 'key pair "kremoved" (CKA_ID [0-9a-f]*) is LEFT on the token' <<<"$err"
check "keygen: the leftover is recorded" grep -q '"action":"hsm.leftover".*"label":"kremoved"' "$TR"
check "keygen: pkcs11-tool sees the pair the message names" test "$(objects_of root-hsm | grep -c '|kremoved|')" -eq 2
check "keygen: the transcript still verifies" "$CEREMONY" transcript verify --allow-unsealed "$TR"

# The signing commands, on a P-256 root (and an RSA-3072 one for C_Sign alone).
P=$SRC_ROOT/ceremony-scripts/profiles
TR=$T/transcripts/root.jsonl
CEREMONY_MODULE=$FAULTP11_MODULE make_root sign-hsm root ec-p256 "$TR" "$T/out/root.pem"
CEREMONY_MODULE=$FAULTP11_MODULE make_root rsa-hsm root rsa-3072 "$T/transcripts/rsa.jsonl" "$T/out/rsa-root.pem"
# A new CSR (a new key) for each run: a key is certified once.
csr_for() { # NAME
	[ -f "$T/$1.csr" ] || openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-keyout "$T/$1.key" -subj "/C=DE/O=ACME Devices/CN=ACME Factory $1 IDevID CA" \
		-out "$T/$1.csr" 2>/dev/null
	echo "$T/$1.csr"
}

op_certroot() {
	cer cert root --token sign-hsm --key root --profile "$P/root.yaml" \
		--subject "/C=DE/O=ACME Devices/CN=Root $1" --out "$T/out/root-$1.pem" --transcript "$TR"
}
outputs_certroot() { echo "$T/out/root-$1.pem"; }
done_certroot() { openssl verify -CAfile "$T/out/root-$1.pem" "$T/out/root-$1.pem"; }
sweep certroot sample sign-hsm

TR=$T/transcripts/sign.jsonl
op_certsign() {
	cer cert sign --token sign-hsm --key root --issuer "$T/out/root.pem" \
		--profile "$P/intermediate-ca.yaml" --csr "$(csr_for "int-$1")" --out "$T/out/int-$1.pem" --transcript "$TR"
}
outputs_certsign() { echo "$T/out/int-$1.pem $T/out/int-$1-chain.pem"; }
done_certsign() { openssl verify -CAfile "$T/out/root.pem" "$T/out/int-$1.pem"; }
sweep certsign sample sign-hsm

op_crlsign() {
	cer crl sign --token sign-hsm --key root --issuer "$T/out/root.pem" --next-update 30 \
		--out "$T/out/crl-$1.crl" --transcript "$TR"
}
outputs_crlsign() { echo "$T/out/crl-$1.crl"; }
done_crlsign() { openssl crl -in "$T/out/crl-$1.crl" -CAfile "$T/out/root.pem" -noout; }
sweep crlsign sample sign-hsm

# Seal a fresh copy of the signing transcript for each point.
op_seal() {
	[ -f "$T/seal-$1.jsonl" ] || cp "$T/transcripts/sign.jsonl" "$T/seal-$1.jsonl"
	cer transcript seal --token sign-hsm --key root --cert "$T/out/root.pem" "$T/seal-$1.jsonl"
}
outputs_seal() { echo "$T/seal-$1.jsonl.sig"; }
done_seal() { "$CEREMONY" transcript verify --root "$T/out/root.pem" "$T/seal-$1.jsonl"; }
sweep seal sample sign-hsm

TR=$T/transcripts/rsa.jsonl
op_rsasign() {
	cer cert sign --token rsa-hsm --key root --issuer "$T/out/rsa-root.pem" \
		--profile "$P/intermediate-ca.yaml" --csr "$(csr_for "rsa-int-$1")" --out "$T/out/rsa-int-$1.pem" --transcript "$TR"
}
outputs_rsasign() { echo "$T/out/rsa-int-$1.pem $T/out/rsa-int-$1-chain.pem"; }
done_rsasign() { openssl verify -CAfile "$T/out/rsa-root.pem" "$T/out/rsa-int-$1.pem"; }
sweep rsasign sign rsa-hsm

echo "# fault points: $FAULT_POINTS, clean: $FAULT_CLEAN"
finish

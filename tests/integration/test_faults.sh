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

echo "# fault points: $FAULT_POINTS, clean: $FAULT_CLEAN"
finish

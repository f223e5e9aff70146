#!/usr/bin/env bash
# Every PKCS#11 call of an operation fails in turn, through our fault-injecting
# module (tests/faultp11) in front of SoftHSM2: the operation must fail closed,
# say which fault, write nothing, leave nothing unnamed, and work when rerun.
# FAULTS_FULL=1 fails every call of every operation (the default samples the
# read-only calls of the longer operations); FAULTS_ONLY="keygen seal" sweeps only those.
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
if [ -z "${FAULTS_ONLY:-}" ]; then
err=$(FAULTP11_FUNC=C_GetAttributeValue FAULTP11_FAIL=1 FAULTP11_REMOVE=1 op_keygen removed 2>&1 >/dev/null)
check "keygen: removal after the pair exists fails" test $? -ne 0
check "keygen: removal names the fault" grep -q CKR_DEVICE_REMOVED <<<"$err"
check "keygen: removal names the pair left on the token" grep -q 'key pair "kremoved" (CKA_ID [0-9a-f]*) is LEFT on the token' <<<"$err"
check "keygen: the leftover is recorded" grep -q '"action":"hsm.leftover".*"label":"kremoved"' "$TR"
check "keygen: pkcs11-tool sees the pair the message names" test "$(objects_of root-hsm | grep -c '|kremoved|')" -eq 2
check "keygen: the transcript still verifies" "$CEREMONY" transcript verify --allow-unsealed "$TR"
# A rerun without the fault removes the pair its hsm.leftover names, records that, and generates.
old_id=$(objects_of root-hsm | grep '|kremoved|' | head -n1 | cut -d'|' -f4)
out=$(op_keygen removed 2>&1) && pass "keygen: the rerun succeeds" || fail "keygen: the rerun succeeds" "$out"
expect_contains "keygen: the rerun says it removed the leftover" "$out" 'Removed key pair "kremoved"'
check "keygen: the removal is recorded" grep -q '"action":"hsm.leftover_removed".*"label":"kremoved"' "$TR"
now=$(objects_of root-hsm | grep '|kremoved|')
check "keygen: one new pair labelled kremoved, another CKA_ID" bash -c \
	"test \$(printf '%s\n' \"\$1\" | grep -c .) -eq 2 && test -n '$old_id' && ! grep -q '|$old_id\$' <<<\"\$1\"" _ "$now"
check "keygen: the transcript verifies after the rerun" "$CEREMONY" transcript verify --allow-unsealed "$TR"
# A recorded key is never a leftover: its label is refused, the key stays.
before=$(objects_of root-hsm)
expect_fail "keygen: a recorded key's label is refused, not cleared" 1 'already has an object labelled "kremoved"' op_keygen removed
check "keygen: the recorded pair is still there" test "$(objects_of root-hsm)" = "$before"
fi

# The signing commands, on a P-256 root (and an RSA-3072 one for C_Sign alone).
P=$SRC_ROOT/ceremony-scripts/profiles
TR=$T/transcripts/root.jsonl
CEREMONY_MODULE=$FAULTP11_MODULE make_root sign-hsm root ec-p256 "$TR" "$T/out/root.pem"
# Seals are made by the ceremony-signing key the root certifies (docs/seal.md).
CEREMONY_MODULE=$FAULTP11_MODULE cer cert signer --token sign-hsm --key root --issuer "$T/out/root.pem" \
	--profile "$T/profiles/ceremony-signer.yaml" --label signing --out "$T/out/signer.pem" \
	--transcript "$TR" >/dev/null || fatal "cert signer"
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
		--profile "$P/intermediate-ca.yaml" --csr "$(csr_for "int-$1")" --expect-file "$(pins_for "$(csr_for "int-$1")")" --out "$T/out/int-$1.pem" --transcript "$TR"
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
	cer transcript seal --token sign-hsm --key signing --cert "$T/out/signer.pem" "$T/seal-$1.jsonl"
}
outputs_seal() { echo "$T/seal-$1.jsonl.sig"; }
done_seal() { "$CEREMONY" transcript verify --root "$T/out/root.pem" "$T/seal-$1.jsonl"; }
sweep seal sample sign-hsm

TR=$T/transcripts/rsa.jsonl
op_rsasign() {
	cer cert sign --token rsa-hsm --key root --issuer "$T/out/rsa-root.pem" \
		--profile "$P/intermediate-ca.yaml" --csr "$(csr_for "rsa-int-$1")" --expect-file "$(pins_for "$(csr_for "rsa-int-$1")")" --out "$T/out/rsa-int-$1.pem" --transcript "$TR"
}
outputs_rsasign() { echo "$T/out/rsa-int-$1.pem $T/out/rsa-int-$1-chain.pem"; }
done_rsasign() { openssl verify -CAfile "$T/out/rsa-root.pem" "$T/out/rsa-int-$1.pem"; }
sweep rsasign sign rsa-hsm

# Backup create, recover and the drill: three cards (2 of 3) with the user PIN.
# The test Argon2id cost from the site configuration, as a scripted run takes it.
printf 'argon2_cost: test\n' >"$T/test-cost.yaml"
cer() {
	timeout "$FAULT_TIMEOUT" "$CEREMONY" --config "$T/test-cost.yaml" --pin-source "file:$T/pins/user" \
		--so-pin-source "file:$T/pins/so" "$@"
}
for i in 1 2 3; do
	CEREMONY_MODULE=$FAULTP11_MODULE new_token "ke$i" "$T/transcripts/setup.jsonl"
	printf 'passphrase of KE%s' "$i" >"$T/pins/pass$i"
done
CEREMONY_MODULE=$FAULTP11_MODULE new_token rec "$T/transcripts/setup.jsonl"
CARDS=(--cards ke1,ke2,ke3 --card-pin-sources "file:$T/pins/user,file:$T/pins/user,file:$T/pins/user"
	--passphrase-sources "file:$T/pins/pass1,file:$T/pins/pass2,file:$T/pins/pass3")
TR=$T/transcripts/backup.jsonl
op_backup() {
	cer backup create --token sign-hsm --key root --threshold 2 --shares 3 "${CARDS[@]}" \
		--out "$T/out/b-$1.blob" --internal-record "$T/out/b-$1.json" --transcript "$TR"
}
outputs_backup() { echo "$T/out/b-$1.blob $T/out/b-$1.json"; }
done_backup() { test -s "$T/out/b-$1.blob"; }
reset_backup() { [ "$1" = 0 ] || restore_to "$SWEEP_BEFORE" ke1 ke2 ke3; }
sweep backup sample sign-hsm ke1 ke2 ke3

# Cards pulled while the third share is written (the last C_CreateObject): the two
# shares already written cannot be destroyed. The message names them and their
# cards; the transcript records that shares of the backup may remain, without
# naming the cards (that would tell n); no blob is written.
if [ -f "$T/trace-backup" ]; then
n=$(awk '$2 == "C_CreateObject"' "$T/trace-backup" | wc -l)
before=$(snapshot ke1 ke2 ke3)
err=$(FAULTP11_FUNC=C_CreateObject FAULTP11_FAIL=$n FAULTP11_REMOVE=1 op_backup removed 2>&1 >/dev/null)
check "backup: removal at the third share fails" test $? -ne 0
added=$(comm -13 <(printf '%s\n' "$before") <(snapshot ke1 ke2 ke3))
check "backup: removal leaves two share objects (pkcs11-tool)" test "$(printf '%s\n' "$added" | grep -c '|Data object|')" -eq 2
while IFS= read -r obj; do
	o=$(printf '%s' "$obj" | cut -d'|' -f3)
	check "backup: the message names the left share \"$o\"" grep -qF "\"$o\"" <<<"$err"
done <<<"$added"

check "backup: removal names the fault" grep -q CKR_DEVICE_REMOVED <<<"$err"
check "backup: removal does not claim no card changed" bash -c "! grep -q 'no card, blob or transcript changed' <<<\"\$1\"" _ "$err"
check "backup: the message says the shares are LEFT" grep -q 'LEFT on the cards: share' <<<"$err"
check "backup: no blob after the removal" test ! -e "$T/out/b-removed.blob"
check "backup: the leftover is recorded" grep -q '"action":"hsm.leftover".*"backup.create failed"' "$TR"
check "backup: the record names no card" bash -c "! grep '\"action\":\"hsm.leftover\"' '$TR' | grep -q '\"ke[0-9]'"
check "backup: the transcript still verifies" "$CEREMONY" transcript verify --allow-unsealed --allow-test-cost "$TR"
restore_to "$before" ke1 ke2 ke3 # as the record tells an operator to
fi

# The known-answer test's throwaway session objects (the KAT key, then its KEK) cannot be
# destroyed: the run stops with that message (a cleanup's result is never ignored) before
# any card is asked, and writes nothing.
if [ -f "$T/trace-backup" ]; then
kek_k=$(awk '$2 == "C_Login" {exit} $2 == "C_DestroyObject" {n++} END {print n + 0}' "$T/trace-backup")
check "backup: the known-answer test destroys its objects before the first login" test "$kek_k" -ge 2
for case in "1 key" "$kek_k KEK"; do
	k=${case%% *} what=${case#* }
	before=$(snapshot sign-hsm ke1 ke2 ke3)
	err=$(FAULTP11_FUNC=C_DestroyObject FAULTP11_FAIL=$k op_backup "kat-$what" 2>&1 >/dev/null)
	check "backup: a failed destroy of the known-answer test $what fails the run" test $? -ne 0
	check "backup: the message names the known-answer test $what and the fault" \
		grep -q "destroying the known-answer test $what: .*(CKR_DEVICE_ERROR)" <<<"$err"
	check "backup: no blob after the known-answer test $what stayed" \
		test ! -e "$T/out/b-kat-$what.blob" -a ! -e "$T/out/b-kat-$what.json"
	check "backup: no token or card changed after the known-answer test $what stayed" \
		test "$(snapshot sign-hsm ke1 ke2 ke3)" = "$before"
done
fi

op_drill() {
	cer backup recover --token rec --blob "$T/out/b-0.blob" --root "$T/out/root.pem" --drill \
		"${CARDS[@]}" --transcript "$TR"
}
outputs_drill() { :; }
done_drill() { grep -q '"action":"backup.drill"' "$TR"; }
sweep drill sample rec

op_recover() {
	cer backup recover --token rec --blob "$T/out/b-0.blob" --root "$T/out/root.pem" \
		"${CARDS[@]}" --signature-out "$T/out/rec-$1.sig" --challenge-out "$T/out/rec-$1.txt" \
		--transcript "$TR"
}
outputs_recover() { echo "$T/out/rec-$1.sig $T/out/rec-$1.txt"; }
done_recover() { test -s "$T/out/rec-$1.sig"; }
reset_recover() { # the recovered key goes, so the next point recovers into the same token
	local type
	for type in privkey pubkey; do
		pkcs11-tool --module "$FAULTP11_MODULE" --token-label rec --login --pin "$(cat "$T/pins/user")" \
			--delete-object --type "$type" --label root >/dev/null 2>&1
	done
}
sweep recover from:C_UnwrapKey rec

# The backup token pulled right after C_UnwrapKey: the recovered key stays there.
# The message says so (never "nothing was imported or kept") and the record names it.
if [ -f "$T/trace-recover" ]; then
n=$(awk '$2 == "C_UnwrapKey" {print NR + 1; exit}' "$T/trace-recover")
fn=$(sed -n "${n}p" "$T/trace-recover" | cut -d' ' -f2)
k=$(head -n "$n" "$T/trace-recover" | awk -v f="$fn" '$2 == f' | wc -l)
before=$(snapshot rec)
err=$(FAULTP11_FUNC=$fn FAULTP11_FAIL=$k FAULTP11_REMOVE=1 op_recover removed 2>&1 >/dev/null)
check "recover: removal after the unwrap fails" test $? -ne 0
added=$(comm -13 <(printf '%s\n' "$before") <(snapshot rec))
check "recover: the recovered private key is left (pkcs11-tool)" grep -q '|Private Key|root|' <<<"$added"
check "recover: removal names the fault" grep -q CKR_DEVICE_REMOVED <<<"$err"
check "recover: the message names the key left on the token" grep -q 'LEFT: the recovered private key "root" on token "rec" (CKR_DEVICE_REMOVED)' <<<"$err"
check "recover: never 'nothing was imported or kept' then" bash -c "! grep -q 'nothing was imported or kept' <<<\"\$1\"" _ "$err"
check "recover: the leftover is recorded" grep -q '"action":"hsm.leftover".*"backup.recover failed"' "$TR"
check "recover: no challenge or signature written" test ! -e "$T/out/rec-removed.sig" -a ! -e "$T/out/rec-removed.txt"
check "recover: the transcript still verifies" "$CEREMONY" transcript verify --allow-unsealed --allow-test-cost "$TR"
# A rerun without the fault removes the pair the record names, says so, records it, recovers.
out=$(op_recover rerun 2>&1) && pass "recover: the rerun succeeds" || fail "recover: the rerun succeeds" "$out"
expect_contains "recover: the rerun says it removed the leftover" "$out" 'Removed key pair "root"'
check "recover: the removal is recorded" grep -q '"action":"hsm.leftover_removed".*"label":"root"' "$TR"
check "recover: the rerun recovered (its signature written)" test -s "$T/out/rec-rerun.sig"
check "recover: one private key labelled root on the backup token" test "$(objects_of rec | grep -c '|Private Key|root|')" -eq 1
# The recovered key is in force (backup.recover names it): a rerun is refused, the key stays.
before=$(snapshot rec)
expect_fail "recover: a recovered key is never removed as a leftover" 1 'already has an object labelled "root"' op_recover again
check "recover: the recovered key is still there" test "$(snapshot rec)" = "$before"
check "recover: the transcript verifies after the rerun" "$CEREMONY" transcript verify --allow-unsealed --allow-test-cost "$TR"
reset_recover removed
fi

# card verify (read only) and card wipe on card 3's share of b-0. Between wipe
# points the share goes back (pkcs11-tool writes the same bytes under the same
# label and application), so each point finds what the first run found.
op_cardverify() {
	cer card verify ke3 --blob "$T/out/b-0.blob" --passphrase-source "file:$T/pins/pass3" \
		--transcript "$T/transcripts/verify-$1.jsonl"
}
outputs_cardverify() { :; }
done_cardverify() { grep -q '"action":"card.verify"' "$T/transcripts/verify-$1.jsonl"; }
sweep cardverify sample ke3

if [ -f "$T/out/b-0.blob" ]; then
share3=$(objects_of ke3 | grep '|Data object|' | head -1 | cut -d'|' -f3)
pkcs11-tool --module "$FAULTP11_MODULE" --token-label ke3 --login --pin "$(cat "$T/pins/user")" \
	--read-object --type data --label "$share3" -o "$T/share3.bin" >/dev/null 2>&1
check "card 3's share saved for the wipe sweep" test -s "$T/share3.bin"
op_cardwipe() { cer card wipe ke3 --blob "$T/out/b-0.blob" --transcript "$TR"; }
outputs_cardwipe() { :; }
done_cardwipe() { ! objects_of ke3 | grep -qF "|$share3|"; }
reset_cardwipe() {
	objects_of ke3 | grep -qF "|$share3|" ||
		pkcs11-tool --module "$FAULTP11_MODULE" --token-label ke3 --login --pin "$(cat "$T/pins/user")" \
			--write-object "$T/share3.bin" --type data --label "$share3" \
			--application-label ceremony/backup-share-v1 --private >/dev/null 2>&1
}
sweep cardwipe sample ke3
fi

echo "# fault points: $FAULT_POINTS, clean: $FAULT_CLEAN (survived: $FAULT_SURVIVED), level ${FAULTS_LEVEL:-quick}"
finish

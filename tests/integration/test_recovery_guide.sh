#!/usr/bin/env bash
# docs/recovery.md is a tested runbook (issue 11 item 7): a primary site makes a root key,
# its certificate and a 3-of-5 backup on cards card-1..card-5 (the shipped scripts' names),
# seals its transcript; then every `sh` block of the guide runs, in order, as written, in
# that archive folder. The only help: `ceremony` is given the PINs and passphrases from
# files (people type them at a real ceremony), and LATEST is the primary's transcript name.
# Checked with openssl, pkcs11-tool and the audit.
. "$(dirname "$0")/lib.sh"
setup_hsm
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
A=$T/archive
mkdir -p "$A/media/backup" "$A/media/dr" "$A/out" "$A/transcripts" "$A/internal"
cd "$A" || fatal "archive folder" "cannot enter $A"
P=$T/pins
for i in 1 2 3 4 5 6; do printf 'passphrase of card-%s, long enough' "$i" >"$P/pass-card-$i"; done

# The guide's `ceremony`: the real binary, with the secrets people would type taken from files.
ceremony() {
	local extra=() a cards="" card=""
	case "$1 $2" in
	"backup recover" | "backup rekey" | "backup create")
		for a in "$@"; do [ "$card" = next ] && cards=$a && card=""; [ "$a" = --cards ] && card=next; done
		local pins="" passes="" c
		for c in ${cards//,/ }; do pins="$pins${pins:+,}file:$P/user"; passes="$passes${passes:+,}file:$P/pass-$c"; done
		extra=(--card-pin-sources "$pins" --passphrase-sources "$passes" --test-cost)
		;;
	"card verify") extra=(--passphrase-source "file:$P/pass-$3" --test-cost) ;;
	esac
	"$CEREMONY" --pin-source "file:$P/user" --so-pin-source "file:$P/so" "$@" "${extra[@]}"
}

# The primary site, as the shipped root key generation leaves it.
PT=transcripts/0001-root.jsonl
for t in root-hsm card-1 card-2 card-3 card-4 card-5; do
	new_token "$t" "$T/setup.jsonl"
done
ceremony key generate --token root-hsm --label root --type ec-p384 --transcript "$PT" >/dev/null ||
	fatal "primary: key generate"
mkdir -p profiles && cp "$ROOT"/ceremony-scripts/profiles/*.yaml profiles/ # the archive keeps its profiles
ceremony cert root --token root-hsm --key root --profile profiles/root.yaml \
	--subject "/C=DE/O=ACME Devices/CN=ACME Devices Root CA 2026" --out out/root.pem --transcript "$PT" >/dev/null ||
	fatal "primary: cert root"
ceremony backup create --token root-hsm --key root --threshold 3 --shares 5 --cards card-1,card-2,card-3,card-4,card-5 \
	--out media/backup/root-backup.blob --internal-record internal/backup-internal.json --transcript "$PT" >/dev/null ||
	fatal "primary: backup create"
ceremony cert signer --token root-hsm --key root --issuer out/root.pem --profile profiles/ceremony-signer.yaml \
	--label ceremony-signing --out out/ceremony-signer.pem --transcript "$PT" >/dev/null || fatal "primary: cert signer"
ceremony transcript seal --token root-hsm --key ceremony-signing --cert out/ceremony-signer.pem "$PT" >/dev/null ||
	fatal "primary: seal"

# The guide's commands: every line of every ```sh block, in order.
blocks=$(awk '/^ *```sh$/ {inb=1; next} /^ *```$/ {inb=0; next} inb {sub(/^ +/, ""); print}' "$ROOT/docs/recovery.md")
check "the guide has runnable blocks" test "$(printf '%s\n' "$blocks" | grep -c .)" -ge 12
n=0
while IFS= read -r line; do
	[ -n "$line" ] || continue
	n=$((n + 1))
	line=${line//LATEST/0001-root}
	out=$(eval "$line" 2>&1)
	rc=$?
	printf '%s\n' "$out" >"$T/step-$n.out"
	case "$line" in
	"ceremony key show"*)
		# The guide explains this verdict: a recovered key was not generated in this token.
		check "guide: $line (explained LOCAL FALSE verdict, exit 0)" bash -c "[ $rc -eq 0 ] && printf '%s' \"\$1\" | grep -q 'not generated in this HSM (CKA_LOCAL FALSE: recovered from a backup or imported)'" _ "$out"
		cp "$T/step-$n.out" "$T/keyshow.out"
		;;
	*)
		if [ $rc -eq 0 ]; then pass "guide: $line"; else fail "guide: $line" "exit $rc: $(printf '%s' "$out" | tail -3)"; fi
		;;
	esac
	case "$line" in
	"openssl dgst"*) printf '%s\n' "$out" >"$T/dgst.out" ;;
	"sha256sum media/backup"*) printf '%s\n' "$out" >"$T/blobsum.out" ;;
	"openssl x509 -in out/root.pem -noout -pubkey"*) printf '%s\n' "$out" >"$T/spkisum.out" ;;
	esac
done <<<"$blocks"

# What the people in the room compare, checked here.
check "step 3: the blob's SHA-256 is the one backup.create recorded" bash -c "
	grep '\"action\":\"backup.create\"' $PT | grep -q \"\$(cut -c1-64 '$T/blobsum.out')\""
check "step 3: root.pem's SPKI fingerprint is the one key.generate recorded" bash -c "
	grep '\"action\":\"key.generate\"' $PT | grep -q \"\$(cut -c1-64 '$T/spkisum.out')\""
check "step 6: key show's SPKI sha256 is root.pem's" bash -c "
	grep 'SPKI sha256' '$T/keyshow.out' | sed 's/.*SPKI sha256 *//; s/ //g' | grep -qi \"\$(cut -c1-64 '$T/spkisum.out')\""
check "step 6: openssl verifies the challenge with root.pem" grep -q 'Verified OK' "$T/dgst.out"
objs=$(pkcs11-tool --module "$CEREMONY_MODULE" --token-label backup-hsm --login --pin "$(cat "$P/user")" --list-objects --type privkey 2>/dev/null)
check "step 5: --extractable made a copy rekey can wrap (extractable, sensitive)" bash -c "printf '%s' \"\$1\" | grep 'Access:' | grep -q 'sensitive.*extractable'" _ "$objs"
check "step 8: the rekeyed blob names the old one as superseded" bash -c "grep '\"action\":\"backup.rekey\"' transcripts/dr-rekey.jsonl | grep -q '\"supersedes\"'"
check "step 8: card-5 no longer holds the old backup's share" bash -c "! '$CEREMONY' --pin-source 'file:$P/user' card show card-5 | grep -q \"\$(jq -r 'select(.action==\"backup.create\") | .details.backup_id' $PT)\""
expect_fail "the superseded blob is now refused at recovery" 1 'superseded' \
	ceremony backup recover --token backup-hsm --blob media/backup/root-backup.blob --root out/root.pem --cards card-2,card-3,card-4 --drill --transcript transcripts/dr-late.jsonl --previous transcripts/dr-rekey.jsonl
rm -f transcripts/dr-late.jsonl
out=$("$CEREMONY" audit --allow-test-cost --root out/root.pem transcripts 2>&1)
rc=$?
check "the history audits as one chain with the DR ceremonies" bash -c "[ $rc -eq 0 ] && printf '%s' \"\$1\" | grep -q 'dr.jsonl' && printf '%s' \"\$1\" | grep -q 'dr-rekey.jsonl'" _ "$out"
[ $rc -eq 0 ] || echo "# audit: $(printf '%s' "$out" | tail -5)"
finish

#!/usr/bin/env bash
# make bench: speed and memory of the host-side work (bench_core) and of whole
# commands against SoftHSM2 tokens: key generation per type, a batch of
# certificates signed in one login, a 3-of-5 backup and its recovery at the
# production Argon2id cost, and an audit. Prints wall time and peak RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
CEREMONY=$PWD/$BUILD/ceremony
echo "== host-side (no HSM)"
"$BUILD/bench/bench_core"

. tests/integration/lib.sh
setup_hsm
measure() { # NAME CMD...: wall seconds and peak RSS of one command
	local name=$1
	shift
	/usr/bin/time -f "%e %M" -o "$T/time" "$@" >"$T/cmd.log" 2>&1 || { cat "$T/cmd.log"; exit 1; }
	read -r secs kib <"$T/time"
	printf '%-44s %8s s   peak RSS %s KiB\n' "$name" "$secs" "$kib"
}
CER=("$CEREMONY" --pin-source "file:$T/pins/user" --so-pin-source "file:$T/pins/so")
echo "== commands on SoftHSM2 tokens"
TR=$T/transcripts/bench.jsonl
new_token root-hsm "$TR"
for type in ec-p384 ec-p256 rsa-3072 rsa-4096; do
	measure "key generate $type" "${CER[@]}" key generate --token root-hsm --label "k-$type" --type "$type" --transcript "$TR"
done
measure "cert root (ec-p384)" "${CER[@]}" cert root --token root-hsm --key k-ec-p384 \
	--profile ceremony-scripts/profiles/root.yaml --subject "/C=DE/O=Bench/CN=Bench Root" --out "$T/out/root.pem" --transcript "$TR"
N=200
mkdir -p "$T/csr" "$T/certs"
for i in $(seq 1 $N); do
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout /dev/null \
		-subj "/C=DE/O=Bench/CN=Factory $i CA" -out "$T/csr/f$i.csr" 2>/dev/null
done
PINS=$(pins_for "$T/csr") # the CA profile requires pins (requests_pinned: true)
measure "cert sign: batch of $N intermediates, one login" "${CER[@]}" cert sign --token root-hsm --key k-ec-p384 \
	--issuer "$T/out/root.pem" --profile ceremony-scripts/profiles/intermediate-ca.yaml \
	--csr-dir "$T/csr" --out-dir "$T/certs" --transcript "$TR" --expect-file "$PINS"
measure "crl sign" "${CER[@]}" crl sign --token root-hsm --key k-ec-p384 --issuer "$T/out/root.pem" \
	--next-update 30 --out "$T/out/root.crl" --transcript "$TR"
# Seals are made by a ceremony-signing key the root certifies, never the root key.
measure "cert signer (ec-p384)" "${CER[@]}" cert signer --token root-hsm --key k-ec-p384 --issuer "$T/out/root.pem" \
	--profile ceremony-scripts/profiles/ceremony-signer.yaml --label bench-signer --out "$T/out/signer.pem" --transcript "$TR"
measure "transcript seal" "${CER[@]}" transcript seal --token root-hsm --key bench-signer "$TR"
measure "transcript verify + replay ($N certificates)" "$CEREMONY" transcript verify --root "$T/out/root.pem" "$TR"
unset CEREMONY_TEST_ARGON2
cards=""
pins=""
passes=""
for n in 1 2 3 4 5; do
	new_token "card-$n" "$T/transcripts/cards.jsonl"
	printf 'bench passphrase %s, long enough' "$n" >"$T/pins/pass$n"
	cards="$cards${cards:+,}card-$n"
	pins="$pins${pins:+,}file:$T/pins/user"
	passes="$passes${passes:+,}file:$T/pins/pass$n"
done
TR2=$T/transcripts/backup.jsonl
measure "backup create 3-of-5 (production Argon2id)" "${CER[@]}" backup create --token root-hsm --key k-ec-p384 \
	--threshold 3 --shares 5 --cards "$cards" --card-pin-sources "$pins" --passphrase-sources "$passes" \
	--out "$T/out/root.blob" --internal-record "$T/out/internal.json" --transcript "$TR2"
new_token backup-hsm "$TR2"
measure "backup recover --drill from 3 cards" "${CER[@]}" backup recover --token backup-hsm --blob "$T/out/root.blob" \
	--cards card-1,card-3,card-5 --card-pin-sources "file:$T/pins/user,file:$T/pins/user,file:$T/pins/user" \
	--passphrase-sources "file:$T/pins/pass1,file:$T/pins/pass3,file:$T/pins/pass5" \
	--root "$T/out/root.pem" --drill --transcript "$TR2"
grep -o '"reconstitution_seconds":[0-9.]*' "$TR2" | sed 's/^/  recorded /'
# Issue 13 item 4: backup creation bounded by Argon2id (tests/bench/bench_backup.sh prints JSON).
echo "== backup cost (10-of-16 vs 3-of-5 at test cost; 3-of-5 at production cost)"
CEREMONY=$CEREMONY tests/bench/bench_backup.sh
echo
tests/bench/ratios.sh

# Sourced by demo.sh (needs CEREMONY, DEMO_DIR, SOFTHSM2_CONF, cer and step from it):
# Act 5, backup to five Key Executive cards (3 of 5), and Act 6, reconstitution at a
# backup-site token from cards 1, 3 and 5, proved by a challenge signed there and
# verified with out/root.pem. Its own transcript, sealed at the end.
# DEMO secrets are files in $DEMO_DIR/pins so the demo runs unattended; in a real
# ceremony each executive types the card PIN and passphrase at the prompt naming the card.
# CEREMONY_TEST_ARGON2=1 lowers the passphrase hashing cost for the demo (recorded).
BTR=$DEMO_DIR/transcripts/backup.jsonl
mkdir -p "$DEMO_DIR/media/backup"
export CEREMONY_TEST_ARGON2=1
kecer() { # N ARGS...: as Key Executive N (card N's PINs)
	local n=$1
	shift
	"$CEREMONY" --config "$DEMO_DIR/ceremony.yaml" --pin-source "file:$DEMO_DIR/pins/ke$n-pin" \
		--so-pin-source "file:$DEMO_DIR/pins/ke$n-so" "$@"
}
list() { # PREFIX SUFFIX N...: file:PREFIX<n>SUFFIX,...
	local p=$1 s=$2 out="" n
	shift 2
	for n in "$@"; do out="$out${out:+,}file:$p$n$s"; done
	printf '%s' "$out"
}

step "Act 5: Key Executive cards and the 3-of-5 backup of the root key"
for n in 1 2 3 4 5; do
	printf 'demo-ke%s-so' "$n" >"$DEMO_DIR/pins/ke$n-so"
	printf 'demo-ke%s-pin' "$n" >"$DEMO_DIR/pins/ke$n-pin"
	printf 'demo passphrase of key executive %s' "$n" >"$DEMO_DIR/pins/ke$n-pass"
	kecer "$n" token init --label "ke$n-card" --transcript "$BTR" --ceremony root-backup-demo
done
cer backup create --token root-hsm --key root-2026 --threshold 3 --shares 5 \
	--cards ke1-card,ke2-card,ke3-card,ke4-card,ke5-card --holders KE1,KE2,KE3,KE4,KE5 \
	--card-pin-sources "$(list "$DEMO_DIR/pins/ke" -pin 1 2 3 4 5)" \
	--passphrase-sources "$(list "$DEMO_DIR/pins/ke" -pass 1 2 3 4 5)" \
	--out "$DEMO_DIR/media/backup/root-backup.blob" \
	--internal-record "$DEMO_DIR/out/backup-internal-record.json" --transcript "$BTR"
kecer 3 card show ke3-card

step "Act 6: disaster recovery at the backup site from cards 1, 3 and 5"
printf 'demo-backup-so' >"$DEMO_DIR/pins/backup-so"
printf 'demo-backup-pin' >"$DEMO_DIR/pins/backup-pin"
bcer() {
	"$CEREMONY" --config "$DEMO_DIR/ceremony.yaml" --pin-source "file:$DEMO_DIR/pins/backup-pin" \
		--so-pin-source "file:$DEMO_DIR/pins/backup-so" "$@"
}
bcer token init --label backup-site-hsm --transcript "$BTR"
bcer backup recover --token backup-site-hsm --blob "$DEMO_DIR/media/backup/root-backup.blob" \
	--root "$DEMO_DIR/out/root.pem" --cards ke1-card,ke3-card,ke5-card \
	--card-pin-sources "$(list "$DEMO_DIR/pins/ke" -pin 1 3 5)" \
	--passphrase-sources "$(list "$DEMO_DIR/pins/ke" -pass 1 3 5)" \
	--challenge-out "$DEMO_DIR/out/recovery-challenge.txt" \
	--signature-out "$DEMO_DIR/out/recovery-challenge.sig" --transcript "$BTR"
openssl x509 -in "$DEMO_DIR/out/root.pem" -pubkey -noout >"$DEMO_DIR/out/root-pubkey.pem"
printf '  openssl: '
openssl dgst -sha384 -verify "$DEMO_DIR/out/root-pubkey.pem" \
	-signature "$DEMO_DIR/out/recovery-challenge.sig" "$DEMO_DIR/out/recovery-challenge.txt"
cer transcript seal --token root-hsm --key root-2026 --cert "$DEMO_DIR/out/root.pem" "$BTR"
"$CEREMONY" transcript verify --root "$DEMO_DIR/out/root.pem" "$BTR"
unset CEREMONY_TEST_ARGON2

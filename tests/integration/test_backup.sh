#!/usr/bin/env bash
# Backup and disaster recovery on real SoftHSM2 tokens: a root token, five Key Executive
# cards and a backup token; checked with openssl and pkcs11-tool.
. "$(dirname "$0")/lib.sh"
setup_hsm
export CEREMONY_TEST_ARGON2=1
TR=$T/transcripts/backup.jsonl
PROFILE=$PWD/ceremony-scripts/profiles/root.yaml
new_token root-hsm
new_token backup-hsm
for i in 1 2 3 4 5 6 7 8 9; do
	new_token "ke$i"
	printf 'card-pin-%s' "$i" >"$T/pins/card$i"
	printf 'passphrase of KE%s' "$i" >"$T/pins/pass$i"
done
# Cards have their own PINs: set them (init gave them the shared user PIN).
for i in 1 2 3 4 5 6 7 8 9; do
	pkcs11-tool --module "$CEREMONY_MODULE" --token-label "ke$i" --login --pin "$(cat "$T/pins/user")" \
		--change-pin --new-pin "$(cat "$T/pins/card$i")" >/dev/null 2>&1
done
printf 'not-the-pin' >"$T/pins/wrongcard"
printf 'not the passphrase' >"$T/pins/wrongpass"
cer key generate --token root-hsm --label root-2026 --type ec-p384 --transcript "$TR" >/dev/null
cer cert root --token root-hsm --key root-2026 --profile "$PROFILE" \
	--subject "/C=DE/O=ACME Devices/CN=ACME Devices Root CA 2026" --out "$T/out/root.pem" --transcript "$TR" >/dev/null

pins() { local s="" i; for i in "$@"; do s="$s${s:+,}file:$T/pins/card$i"; done; echo "$s"; }
passes() { local s="" i; for i in "$@"; do s="$s${s:+,}file:$T/pins/pass$i"; done; echo "$s"; }
cards() { local s="" i; for i in "$@"; do s="$s${s:+,}ke$i"; done; echo "$s"; }

START=$SECONDS
expect_ok "backup create 3-of-5" cer backup create --token root-hsm --key root-2026 --threshold 3 --shares 5 \
	--cards "$(cards 1 2 3 4 5)" --card-pin-sources "$(pins 1 2 3 4 5)" --passphrase-sources "$(passes 1 2 3 4 5)" \
	--out "$T/out/root.blob" --internal-record "$T/out/root-internal.json" --transcript "$TR"
echo "# create took $((SECONDS - START)) s"
check "backup.create recorded with the blob's hash" bash -c "grep '\"action\":\"backup.create\"' '$TR' | grep -q \"\$(sha256sum '$T/out/root.blob' | cut -c1-64)\""
check "the transcript shows spare shares n-k = 2" bash -c "grep '\"action\":\"backup.create\"' '$TR' | grep -q '\"spare_shares\":2'"
check "the transcript does not show k or n" bash -c "! grep '\"action\":\"backup.create\"' '$TR' | grep -qE '\"(k|n|threshold)\":'"
check "the internal record holds k=3, n=5" bash -c "jq -e '.parameters_readable.k == 3 and .parameters_readable.n == 5' '$T/out/root-internal.json'"
check "the parameters commitment recomputes from the internal record" bash -c "
	salt=\$(jq -r .salt '$T/out/root-internal.json'); text=\$(jq -r .parameters '$T/out/root-internal.json')
	c=\$(printf '%s' \"\$text\" | openssl dgst -sha256 -mac HMAC -macopt hexkey:\$salt | awk '{print \$NF}')
	grep '\"action\":\"backup.create\"' '$TR' | grep -q \"\\\"parameters_commitment\\\":\\\"\$c\\\"\""
out=$(pkcs11-tool --module "$CEREMONY_MODULE" --token-label ke3 --login --pin "$(cat "$T/pins/card3")" --list-objects --type data 2>/dev/null)
check "card 3 holds a private data object of ceremony/backup-share-v1" bash -c "printf '%s' \"\$1\" | grep -qE \"application: +'ceremony/backup-share-v1'\" && printf '%s' \"\$1\" | grep -q private" _ "$out"

START=$SECONDS
expect_ok "recover at backup-hsm from cards 1, 3, 5" cer backup recover --token backup-hsm --blob "$T/out/root.blob" \
	--root "$T/out/root.pem" --cards "$(cards 1 3 5)" --card-pin-sources "$(pins 1 3 5)" --passphrase-sources "$(passes 1 3 5)" \
	--challenge-out "$T/out/challenge.txt" --signature-out "$T/out/challenge.sig" --transcript "$TR"
echo "# recover took $((SECONDS - START)) s"
check "openssl verifies the challenge with root.pem" bash -c "openssl x509 -in '$T/out/root.pem' -pubkey -noout >'$T/out/root.pub' && openssl dgst -sha384 -verify '$T/out/root.pub' -signature '$T/out/challenge.sig' '$T/out/challenge.txt'"
check "backup.recover records the reconstitution time" bash -c "grep '\"action\":\"backup.recover\"' '$TR' | grep -q '\"reconstitution_seconds\":'"
finish

#!/usr/bin/env bash
# make demo: a whole root key ceremony on SoftHSM2 tokens in a throwaway folder.
# DEMO PINs are written to files in $DEMO_DIR/pins so the demo runs unattended;
# in a real ceremony PINs are typed at the terminal (no echo) and never stored.
set -euo pipefail
CEREMONY=${CEREMONY:-build/ceremony}
DEMO_DIR=${DEMO_DIR:-./demo-out}
CEREMONY=$(realpath "$CEREMONY")
PROFILES=$(realpath ceremony-scripts/profiles)

if [ -e "$DEMO_DIR" ]; then
	if [ -f "$DEMO_DIR/.ceremony-demo" ]; then
		echo "Replacing the previous demo in $DEMO_DIR"
		rm -rf "$DEMO_DIR"
	else
		echo "demo: $DEMO_DIR exists and is not a demo folder; nothing was changed" >&2
		exit 1
	fi
fi
mkdir -p "$DEMO_DIR"/{tokens,out,transcripts,pins,media}
DEMO_DIR=$(realpath "$DEMO_DIR")
touch "$DEMO_DIR/.ceremony-demo"

cat >"$DEMO_DIR/softhsm2.conf" <<CONF
directories.tokendir = $DEMO_DIR/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
export SOFTHSM2_CONF="$DEMO_DIR/softhsm2.conf"
module=""
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
	[ -f "$m" ] && module=$m && break
done
[ -n "$module" ] || module=$(dpkg -L softhsm2 | grep 'libsofthsm2.so$' | head -n1)
printf 'module: %s\n' "$module" >"$DEMO_DIR/ceremony.yaml"

printf '%s' "demo-so-pin" >"$DEMO_DIR/pins/root-so"
printf '%s' "demo-user-pin" >"$DEMO_DIR/pins/root-user"
TR=$DEMO_DIR/transcripts/root-keygen.jsonl
cer() {
	"$CEREMONY" --config "$DEMO_DIR/ceremony.yaml" --pin-source "file:$DEMO_DIR/pins/root-user" \
		--so-pin-source "file:$DEMO_DIR/pins/root-so" "$@"
}
step() { printf '\n== %s\n' "$*"; }

step "Act 1: initialise the root HSM token"
cer token init --label root-hsm --transcript "$TR" --ceremony root-keygen-demo
step "Act 2: generate the root key (EC P-384) inside the HSM"
cer key generate --token root-hsm --label root-2026 --type ec-p384 --transcript "$TR"
step "Act 3: self-sign the root certificate"
cer cert root --token root-hsm --key root-2026 --profile "$PROFILES/root.yaml" \
	--subject "/C=DE/O=ACME Devices/CN=ACME Devices Root CA 2026" \
	--out "$DEMO_DIR/out/root.pem" --transcript "$TR"
step "Act 4: seal the transcript with the root key"
cer transcript seal --token root-hsm --key root-2026 "$TR"
step "Verify, as an auditor would, with no HSM"
"$CEREMONY" transcript verify --root "$DEMO_DIR/out/root.pem" "$TR"
openssl verify -x509_strict -CAfile "$DEMO_DIR/out/root.pem" "$DEMO_DIR/out/root.pem"
openssl cms -verify -binary -inform DER -in "$TR.sig" -content "$TR" \
	-CAfile "$DEMO_DIR/out/root.pem" -purpose any -out /dev/null

. "$(dirname "$0")/demo-issue.sh"
. "$(dirname "$0")/demo-backup.sh"

step "Made"
printf '  root certificate   %s\n' "$DEMO_DIR/out/root.pem"
printf '  sha256 fingerprint %s\n' "$(openssl x509 -in "$DEMO_DIR/out/root.pem" -noout -fingerprint -sha256 | cut -d= -f2)"
for c in intermediate legacy-tpm masa; do
	printf '  %-18s %s\n' "$c.pem" "$(openssl x509 -in "$DEMO_DIR/out/$c.pem" -noout -fingerprint -sha256 | cut -d= -f2)"
	printf '  %-18s %s\n' "  policies" "$(openssl x509 -in "$DEMO_DIR/out/$c.pem" -noout -ext certificatePolicies | awk '/Policy:/ {printf "%s ", $2}')"
done
printf '  %-18s %s\n' "root.crl" "$DEMO_DIR/out/root.crl"
printf '  transcripts        %s (each + .sig)\n' "$DEMO_DIR/transcripts"
printf '  tokens             %s (SOFTHSM2_CONF=%s)\n' "$DEMO_DIR/tokens" "$SOFTHSM2_CONF"

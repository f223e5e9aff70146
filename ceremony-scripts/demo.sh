#!/usr/bin/env bash
# make demo: the shipped ceremony scripts, in order, on SoftHSM2 tokens in a
# throwaway folder: root key generation, signing from removable media, the root
# CRL, a disaster-recovery drill at a backup site, a custodian rekey, and the
# auditor's replay of the whole history.
# The demo's PINs and passphrases are files in $DEMO_DIR/pins, named by an
# answers file, so it runs unattended; in a real ceremony each person types them
# (no echo) and they are never stored. The site's ceremony.yaml says
# "argon2_cost: test": it lowers the share passphrase hashing cost for the demo,
# loudly, and the transcripts record that (demo-site.sh).
set -euo pipefail
CEREMONY=${CEREMONY:-build/ceremony}
DEMO_DIR=${DEMO_DIR:-./demo-out}
CEREMONY=$(realpath "$CEREMONY")
SITE_PROFILES=$(realpath ceremony-scripts/profiles)

if [ -e "$DEMO_DIR" ]; then
	if [ -f "$DEMO_DIR/.ceremony-demo" ]; then
		echo "Replacing the previous demo in $DEMO_DIR"
		rm -rf "$DEMO_DIR"
	else
		echo "demo: $DEMO_DIR exists and is not a demo folder; nothing was changed" >&2
		exit 1
	fi
fi
mkdir -p "$DEMO_DIR/tokens" "$DEMO_DIR/audit"
DEMO_DIR=$(realpath "$DEMO_DIR")
touch "$DEMO_DIR/.ceremony-demo"
cat >"$DEMO_DIR/softhsm2.conf" <<CONF
directories.tokendir = $DEMO_DIR/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
export SOFTHSM2_CONF="$DEMO_DIR/softhsm2.conf"
CEREMONY_MODULE=""
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
	[ -f "$m" ] && CEREMONY_MODULE=$m && break
done
[ -n "$CEREMONY_MODULE" ] || CEREMONY_MODULE=$(dpkg -L softhsm2 | grep 'libsofthsm2.so$' | head -n1)
export CEREMONY_MODULE
# A ceremony machine is off the network and the tool refuses to run otherwise;
# the demo runs wherever you are, so it says so, and every transcript records it.
export CEREMONY_ALLOW_NETWORK=1
. "$(dirname "$0")/demo-site.sh"
make_site "$DEMO_DIR"
step() { printf '\n======== %s\n' "$*"; }

step "Ceremony 1: root key generation (script ceremony-scripts/root-key-generation.yaml)"
run_script root-key-generation root-keygen
step "Ceremony 2: signing from removable media"
run_script signing signing root-keygen
cp "$DEMO_DIR"/media/out/*.pem "$DEMO_DIR/out/" # the CA's archive copy; the medium goes to the factory
step "Ceremony 3: the root CRL (the legacy-tpm intermediate ceases operation)"
SITE_RUN_CONFIG=$(site_revoke "$DEMO_DIR/out/legacy-tpm.pem" cessationOfOperation) run_script root-crl crl signing
step "Ceremony 4: disaster-recovery drill at the backup site (the cards ceremony.yaml lists)"
run_script dr-drill dr-drill crl
openssl x509 -in "$DEMO_DIR/out/root.pem" -pubkey -noout >"$DEMO_DIR/out/root-pubkey.pem"
printf 'openssl: '
openssl dgst -sha384 -verify "$DEMO_DIR/out/root-pubkey.pem" -signature "$DEMO_DIR/out/drill-challenge.sig" \
	"$DEMO_DIR/out/drill-challenge.txt"
step "Ceremony 5: custodian rekey (Key Executive 5 leaves, 6 joins)"
SITE_RUN_CONFIG=$(site_rekey) run_script custodian-rekey rekey dr-drill
step "Ceremony 6: root rollover (a new root, cross-certified both ways)"
run_script root-rollover rollover rekey
step "The auditor's replay of the whole history, with no HSM"
"$CEREMONY" --config "$SITE_CONFIG" run ceremony-scripts/audit.yaml --answers "$SITE_ANSWERS" \
	--transcript "$DEMO_DIR/audit/audit-run.jsonl"

step "Checked with tools we did not write"
openssl verify -x509_strict -CAfile "$DEMO_DIR/out/root.pem" "$DEMO_DIR/out/root.pem"
openssl verify -x509_strict -policy 1.3.6.1.4.1.32473.1.1 -explicit_policy \
	-CAfile "$DEMO_DIR/out/root.pem" "$DEMO_DIR/out/intermediate.pem" "$DEMO_DIR/out/legacy-tpm.pem"
printf 'in 2052 (after a 25-year root would have ended): '
openssl verify -x509_strict -attime 2587679999 -policy 1.3.6.1.4.1.32473.1.1 -explicit_policy \
	-CAfile "$DEMO_DIR/out/root.pem" "$DEMO_DIR/out/intermediate.pem"
openssl verify -x509_strict -policy 1.3.6.1.4.1.32473.1.2 -explicit_policy \
	-CAfile "$DEMO_DIR/out/root.pem" "$DEMO_DIR/out/masa.pem"
openssl crl -in "$DEMO_DIR/out/root.crl" -CAfile "$DEMO_DIR/out/root.pem" -verify -noout
printf 'new root through the cross certificate, old root as the only anchor: '
openssl verify -x509_strict -CAfile "$DEMO_DIR/out/root.pem" -untrusted "$DEMO_DIR/out/cross-root-signs-root-2.pem" \
	"$DEMO_DIR/out/cross-root-signs-root-2.pem"
printf 'old root through the link certificate, new root as the only anchor: '
openssl verify -x509_strict -CAfile "$DEMO_DIR/out/root-2.pem" "$DEMO_DIR/out/cross-root-2-signs-root.pem"
# Seals: made by the ceremony-signing key the root certified (never by the root key),
# checked with openssl's default purpose checks (no -purpose any).
openssl verify -x509_strict -CAfile "$DEMO_DIR/out/root.pem" "$DEMO_DIR/out/ceremony-signer.pem"
for t in root-keygen signing crl dr-drill rekey rollover; do
	printf '%s: ' "$t.jsonl.sig"
	openssl cms -verify -binary -inform DER -in "$DEMO_DIR/transcripts/$t.jsonl.sig" \
		-content "$DEMO_DIR/transcripts/$t.jsonl" -CAfile "$DEMO_DIR/out/root.pem" -out /dev/null
done
for k in recovery-kit recovery-kit-2; do
	printf '%s: ' "$k"
	(cd "$DEMO_DIR/kit-medium/$k" && sha256sum --quiet -c MANIFEST.sha256 && openssl cms -verify -binary -inform DER \
		-in MANIFEST.sha256.sig -content MANIFEST.sha256 -CAfile out/root.pem -purpose any -out /dev/null)
done
"$CEREMONY" backup kit verify --root "$DEMO_DIR/out/root.pem" "$DEMO_DIR/kit-medium/recovery-kit-2"
printf 'media MANIFEST.sha256.sig: '
openssl cms -verify -binary -inform DER -in "$DEMO_DIR/media/MANIFEST.sha256.sig" \
	-content "$DEMO_DIR/media/MANIFEST.sha256" -CAfile "$DEMO_DIR/out/root.pem" -out /dev/null

step "Made"
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
printf '  %-18s %s\n' "root.pem" "$(fp "$DEMO_DIR/out/root.pem")"
printf '  %-18s %s\n' "ceremony-signer.pem" "$(fp "$DEMO_DIR/out/ceremony-signer.pem")"
for c in intermediate legacy-tpm masa; do
	printf '  %-18s %s\n' "$c.pem" "$(fp "$DEMO_DIR/out/$c.pem")"
	printf '  %-18s %s\n' "  policies" "$(openssl x509 -in "$DEMO_DIR/out/$c.pem" -noout -ext certificatePolicies | awk '/Policy:/ {printf "%s ", $2}')"
done
printf '  %-18s %s\n' "root-2.pem" "$(fp "$DEMO_DIR/out/root-2.pem") (the new root, after the rollover)"
printf '  %-18s %s\n' "cross certificates" "out/cross-root-signs-root-2.pem (old-with-new), out/cross-root-2-signs-root.pem (new-with-old)"
printf '  %-18s %s\n' "root.crl" "$DEMO_DIR/out/root.crl"
printf '  %-18s %s\n' "backups" "$DEMO_DIR/backup-media/ (its own medium, never the factory's; k and n only in internal/; after the rekey: root-backup-2.blob)"
printf '  %-18s %s\n' "recovery kits" "$DEMO_DIR/kit-medium/recovery-kit (root key generation), recovery-kit-2 (after the rekey)"
printf '  %-18s %s\n' "transcripts" "$DEMO_DIR/transcripts/ (each sealed; root-keygen countersigned by IW)"
printf '  %-18s %s\n' "tokens" "$DEMO_DIR/tokens (SOFTHSM2_CONF=$SOFTHSM2_CONF)"
printf '\nBy hand: %s --config %s audit --allow-test-cost %s\n' "$CEREMONY" "$SITE_CONFIG" "$DEMO_DIR/transcripts"

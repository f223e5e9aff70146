#!/usr/bin/env bash
# make demo's script, run into a temporary folder: every shipped ceremony in
# order, then the audit; checked with tools we did not write; no secret on disk.
. "$(dirname "$0")/lib.sh"
D=$(mktemp -d /tmp/ceremony-demo.XXXXXX)
on_exit 'rm -rf "$D"'
out=$(DEMO_DIR="$D/demo" CEREMONY="$CEREMONY" ceremony-scripts/demo.sh 2>&1)
printf '%s\n' "$out" >"$D/demo-run.log"
rc=$?
if [ $rc -eq 0 ]; then pass "demo runs to the end"; else fail "demo runs to the end" "$(printf '%s' "$out" | tail -20)"; fi
O=$D/demo/out
check "demo prints the root's fingerprint" bash -c "printf '%s' \"\$1\" | grep -qE 'root.pem +([0-9A-F]{2}:){31}[0-9A-F]{2}'" _ "$out"
check "demo ends with the audit holding" bash -c "printf '%s' \"\$1\" | grep -q 'History intact: 6 ceremonies'" _ "$out"
check "demo made root.pem" openssl verify -x509_strict -CAfile "$O/root.pem" "$O/root.pem"
# The demo seals shares at the test Argon2id cost ("argon2_cost: test" in its site's
# ceremony.yaml): its scripted audit step is allowed by that key and says so; a verifier or
# auditor outside `ceremony run` is refused and must say --allow-test-cost (issue 9 item 14).
check "the demo's site configuration asks for the test cost" grep -qx 'argon2_cost: test' "$D/demo/ceremony.yaml"
check "the scripted audit accepts the test cost because of the key, and says so" bash -c "printf '%s' \"\$1\" | grep -q 'accepted because of ceremony.yaml argon2_cost: test (a step of ceremony run)'" _ "$out"
check "demo's root-keygen transcript is sealed and verifies" "$CEREMONY" transcript verify --allow-test-cost --root "$O/root.pem" "$D/demo/transcripts/root-keygen.jsonl"
expect_fail "verify refuses the demo's test-cost backup unless told" 1 'sealed at the TEST Argon2id cost' \
	"$CEREMONY" transcript verify --root "$O/root.pem" "$D/demo/transcripts/root-keygen.jsonl"
for f in intermediate legacy-tpm masa; do
	check "demo made $f.pem and its chain" bash -c "test -s '$O/$f.pem' && test -s '$O/$f-chain.pem'"
done
check "demo's MASA carries the voucher policy" openssl verify -x509_strict -policy 1.3.6.1.4.1.32473.1.2 -explicit_policy -CAfile "$O/root.pem" "$O/masa.pem"
check "demo's intermediate never expires" bash -c "openssl x509 -in '$O/intermediate.pem' -noout -enddate | grep -q 9999"
legacy_serial=$(openssl x509 -in "$O/legacy-tpm.pem" -noout -serial | cut -d= -f2)
check "demo's CRL verifies and revokes the legacy-tpm intermediate, ceased operation" bash -c "openssl crl -in '$O/root.crl' -CAfile '$O/root.pem' -verify -noout -text 2>&1 | grep -A4 'Serial Number: $legacy_serial' | grep -q 'Cessation Of Operation'"
check "demo's drill challenge verifies with root.pem (openssl)" bash -c "printf '%s' \"\$1\" | grep -q 'openssl: Verified OK'" _ "$out"
check "demo shows the 3-of-5 split checked at creation" bash -c "printf '%s' \"\$1\" | grep -q 'all 5 shares verified'" _ "$out"
if out=$(/usr/bin/python3 "$SRC_ROOT/tests/transcript-schema-check.py" "$SRC_ROOT/docs/transcript-schema.json" \
	"$D/demo/transcripts" "$D/demo/audit" 2>&1); then
	pass "every record of the demo's transcripts matches docs/transcript-schema.json"
else
	fail "every record of the demo's transcripts matches docs/transcript-schema.json" "$out"
fi
check "the demo's factory medium carries no backup blob" bash -c "! find '$D/demo/media' -name '*.blob' | grep -q . && test -s '$D/demo/backup-media/root-backup.blob'"
# Issue 10.6: every seal is made by the ceremony-signing key the root certified, passes
# openssl's default CMS purpose checks (no -purpose any), uses SHA-384 with the P-384
# key, offers no SMIMECapabilities, and the root key signs only certificates and CRLs.
check "the ceremony-signing certificate chains to the root" openssl verify -x509_strict -CAfile "$O/root.pem" "$O/ceremony-signer.pem"
check "... is CA:FALSE, digitalSignature only, EKU documentSigning" bash -c "t=\$(openssl x509 -in '$O/ceremony-signer.pem' -noout -text); \
	printf '%s' \"\$t\" | grep -A1 'Basic Constraints' | grep -q 'CA:FALSE' && \
	printf '%s' \"\$t\" | grep -A1 'X509v3 Key Usage' | grep -qx ' *Digital Signature' && \
	printf '%s' \"\$t\" | grep -A1 'Extended Key Usage' | grep -q '1.3.6.1.5.5.7.3.36'"
for sig in "$D"/demo/transcripts/*.jsonl.sig "$D/demo/media/MANIFEST.sha256.sig"; do
	name=${sig#"$D"/demo/}
	check "$name passes openssl cms -verify with the default purpose" openssl cms -verify -binary -inform DER \
		-in "$sig" -content "${sig%.sig}" -CAfile "$O/root.pem" -out /dev/null
	printed=$(openssl cms -cmsout -print -inform DER -in "$sig")
	check "$name: SHA-384, no SMIMECapabilities, signed by the signing key" bash -c "p=\$1; \
		printf '%s' \"\$p\" | grep -A1 'digestAlgorithm:' | grep -q 'sha384' && \
		! printf '%s' \"\$p\" | grep -qi 'smimeCapabilities\\|1.2.840.113549.1.9.15' && \
		printf '%s' \"\$p\" | grep -q 'Ceremony Signing'" _ "$printed"
done
check "no seal is made by the root key" bash -c "for s in '$D'/demo/transcripts/*.sig '$D/demo/media/MANIFEST.sha256.sig'; do \
	openssl cms -verify -binary -inform DER -in \"\$s\" -content \"\${s%.sig}\" -CAfile '$O/root.pem' -signer /dev/stdout -out /dev/null 2>/dev/null | \
	openssl x509 -noout -subject | grep -q 'Ceremony Signing' || exit 1; done"
check "the DR proof stays a raw signature by the recovered root, checked with root.pem" bash -c "openssl x509 -in '$O/root.pem' -pubkey -noout >'$D/rootpub.pem' && \
	openssl dgst -sha384 -verify '$D/rootpub.pem' -signature '$O/drill-challenge.sig' '$O/drill-challenge.txt'"
check "demo audits by hand too" "$CEREMONY" audit --allow-test-cost --root "$O/root.pem" "$D/demo/transcripts"
check "the audit fails on the test-cost backup unless told" bash -c "! '$CEREMONY' audit --root '$O/root.pem' '$D/demo/transcripts' >/dev/null 2>&1"
# Issue 10.7: every path a record names is relative to the CA's archive (the folder
# holding transcripts/): no absolute path, no "..", and the site configuration by its place.
paths=$(cat "$D"/demo/transcripts/*.jsonl "$D"/demo/audit/*.jsonl | jq -r '.. | objects |
	to_entries[] | select((.key == "path" or .key == "blob" or .key == "media" or .key == "script")
	and (.value | type) == "string") | .value')
check "the demo's records name files (sanity)" bash -c "printf '%s\n' \"\$1\" | grep -qx 'out/root.pem'" _ "$paths"
check "no recorded path of the demo is absolute or climbs with .." bash -c "! printf '%s\n' \"\$1\" | grep -E '^/|(^|/)\.\.?(/|\$)'" _ "$paths"
check "ceremony.start records the site configuration relative to the archive" bash -c \
	"jq -r 'select(.action == \"ceremony.start\") | .details.config.path' '$D/demo/transcripts/signing.jsonl' | grep -qx ceremony.yaml"
check "media.manifest records the medium relative to the archive" bash -c \
	"jq -r 'select(.action == \"media.manifest\") | .details.media' '$D/demo/transcripts/signing.jsonl' | grep -qx media"
# Issue 11.4: an auditor's copy laid out differently, each folder named by option.
R=$D/relocated
mkdir -p "$R/tx" "$R/certs" "$R/usb" "$R/prof" "$R/bk" "$R/conf"
cp -a "$D/demo/transcripts/." "$R/tx/"
cp -a "$O/." "$R/certs/"
cp -a "$D/demo/media/." "$R/usb/"
cp -a "$D/demo/profiles/." "$R/prof/"
cp -a "$D/demo/backup-media/." "$R/bk/"
cp -a "$D/demo/internal/." "$R/conf/"
folders=(--folder "out=$R/certs" --folder "media=$R/usb" --folder "profiles=$R/prof" --folder "backup-media=$R/bk" --folder "internal=$R/conf")
out=$("$CEREMONY" audit --allow-test-cost --root "$R/certs/root.pem" --archive "$R" "${folders[@]}" "$R/tx" 2>&1)
rc=$?
check "a relocated copy of the demo's archive audits in full with its folders named" bash -c \
	"[ $rc -eq 0 ] && printf '%s' \"\$1\" | grep -q '^History intact: 6 ceremonies' && ! printf '%s' \"\$1\" | grep -q 'Not checked'" _ "$out"
check "... replaying the signing ceremony's certificates" bash -c "printf '%s' \"\$1\" | grep -qE '^0002 signing.jsonl .*certificates replayed ✓'" _ "$out"
out=$("$CEREMONY" audit --allow-test-cost --root "$R/certs/root.pem" "$R/tx" 2>&1)
rc=$?
check "without the folders named, the same copy is an incomplete audit, never ✓" bash -c \
	"[ $rc -eq 1 ] && printf '%s' \"\$1\" | grep -q '^Not checked: .* could not be replayed' && printf '%s' \"\$1\" | grep -q '^INCOMPLETE'" _ "$out"
expect_fail "--folder needs NAME=DIR" 2 'give NAME=DIR' "$CEREMONY" audit --allow-test-cost --root "$R/certs/root.pem" --folder certs "$R/tx"
# transcript verify takes the same options (one transcript of the relocated copy).
out=$("$CEREMONY" transcript verify --allow-test-cost --root "$R/certs/root.pem" --archive "$R" "${folders[@]}" "$R/tx/signing.jsonl" 2>&1)
rc=$?
check "transcript verify of a relocated copy finds every recorded file with its folders named" bash -c \
	"[ $rc -eq 0 ] && printf '%s' \"\$1\" | grep -qE '^Chain intact: [0-9]+ records; [1-9][0-9]* outputs match, 0 not present' && printf '%s' \"\$1\" | grep -q \"0 records' files not present\"" _ "$out"
out=$("$CEREMONY" transcript verify --allow-test-cost --root "$R/certs/root.pem" "$R/tx/signing.jsonl" 2>&1)
check "... and says what it could not find without them" bash -c \
	"printf '%s' \"\$1\" | grep -qE '^Chain intact: [0-9]+ records; [0-9]+ outputs match, [1-9][0-9]* not present'" _ "$out"
expect_fail "transcript verify: --folder needs NAME=DIR" 2 'give NAME=DIR' "$CEREMONY" transcript verify --allow-test-cost \
	--root "$R/certs/root.pem" --folder certs "$R/tx/signing.jsonl"
# A hostile copy: one record's path rewritten to climb out of the archive is refused by line.
cp -a "$R/tx" "$R/bad"
python3 - "$R/bad/root-keygen.jsonl" <<'PY'
import hashlib, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
for i, l in enumerate(lines):
    if i > 0:  # keep the hash chain whole: only the path is hostile
        old = l[l.index(b'"prev":"') + 8:][:64]
        l = l.replace(old, hashlib.sha256(lines[i - 1]).hexdigest().encode())
    if b'"path":"out/root.pem"' in l and b"other-checkout" not in b"".join(lines):
        l = l.replace(b'"path":"out/root.pem"', b'"path":"../../other-checkout/out/root.pem"', 1)
    lines[i] = l
open(sys.argv[1], "wb").write(b"\n".join(lines) + b"\n")
PY
expect_fail "audit refuses a transcript naming ../../other-checkout/..., with its line" 1 \
	'root-keygen.jsonl line [0-9]+: a record names a file by "../../other-checkout/out/root.pem", which is not a path relative to the CA.s archive' \
	"$CEREMONY" audit --allow-test-cost --root "$R/certs/root.pem" "${folders[@]}" "$R/bad"
# No secret on disk: no PIN or passphrase in any file the demo's tool wrote (the
# pins/ folder and the answers file are the demo's own inputs), nor in the tokens.
check "no PIN or passphrase in transcripts, outputs, media or tokens" bash -c "! grep -rlE 'pin-of-|passphrase of' '$D/demo/transcripts' '$D/demo/out' '$D/demo/media' '$D/demo/internal' '$D/demo/tokens' '$D/demo/audit'"
# The rollover and the recovery kits the demo leaves.
check "demo leaves the new root as out/root-2.pem" openssl verify -x509_strict -CAfile "$O/root-2.pem" "$O/root-2.pem"
check "demo leaves the cross certificate; the old root verifies it" bash -c "ls '$O'/*cross*.pem >/dev/null && openssl verify -x509_strict -CAfile '$O/root.pem' '$O/cross-root-signs-root-2.pem'"
check "demo leaves the recovery kits, which verify" bash -c "'$CEREMONY' backup kit verify --root '$O/root.pem' '$D/demo/kit-medium/recovery-kit-2' >/dev/null"
# After the demo a cross certificate without the quorum's approvals is refused, nothing written.
export SOFTHSM2_CONF=$D/demo/softhsm2.conf CEREMONY_ALLOW_NETWORK=1
expect_fail "after the demo, cert cross with no approvals is refused" 1 'issue-ca needs approvals.*nothing was signed' \
	"$CEREMONY" --config "$D/demo/ceremony.yaml" --pin-source "file:$D/demo/pins/CA.pin" cert cross --token root-hsm --key root \
	--issuer-cert "$O/root.pem" --subject-cert "$O/root-2.pem" --profile ceremony-scripts/profiles/root.yaml \
	--out "$O/cross-again.pem" --transcript "$D/demo/transcripts/after.jsonl" --previous "$D/demo/transcripts/rollover.jsonl"
check "... and nothing was written" test ! -e "$O/cross-again.pem"
unset SOFTHSM2_CONF
# k = 3 and n = 5 are confidential (issue 11.5): no public output of the demo states
# them, alone or in a form that adds up to them. Public: the transcripts and their
# seals and countersignatures, out/, the medium's text files, the audit run, and what
# audit, report and transcript print (text and HTML) show; the say and confirm texts,
# dry runs and printed checklists of the shipped scripts. Not public: internal/ (the
# internal records and the confidential annexes) and pins/.
P=$D/public
mkdir -p "$P"
"$CEREMONY" audit --root "$O/root.pem" "$D/demo/transcripts" >"$P/audit.txt" 2>&1
"$CEREMONY" report "$D/demo/transcripts" >"$P/report.txt" 2>&1
for t in "$D"/demo/transcripts/*.jsonl; do
	"$CEREMONY" transcript print "$t" >"$P/$(basename "$t").txt" 2>&1
	"$CEREMONY" transcript print --html "$t" >"$P/$(basename "$t").html" 2>&1
done
for s in root-key-generation dr-drill; do
	"$CEREMONY" --config "$D/demo/ceremony.yaml" run "ceremony-scripts/$s.yaml" --dry-run >"$P/dry-$s.txt" 2>&1
	"$CEREMONY" --config "$D/demo/ceremony.yaml" script print "ceremony-scripts/$s.yaml" >"$P/print-$s.html" 2>&1
done
"$CEREMONY" --config "$D/demo/ceremony-rekey.yaml" run ceremony-scripts/custodian-rekey.yaml --dry-run >"$P/dry-custodian-rekey.txt" 2>&1
"$CEREMONY" --config "$D/demo/ceremony-rekey.yaml" script print ceremony-scripts/custodian-rekey.yaml >"$P/print-custodian-rekey.html" 2>&1
grep -hE '^ *(say|confirm):' ceremony-scripts/*.yaml >"$P/scripts-say.txt"
leaks='\b3 ?(of|-of-|/) ?5\b|"--(threshold|shares)","[0-9]|--(threshold|shares)[= ][0-9]|<[0-9]+ sources>|"(threshold|shares|k|n)": ?[0-9]|\b(three|five) (of|cards|shares|old shares|Key Executives)\b|cards? [0-9]+(, [0-9]+)+,? and [0-9]+'
check "no public output of the demo states k or n" bash -c "! grep -rIliE -- '$leaks' '$P' '$D/demo/transcripts' '$O' '$D/demo/media' '$D/demo/audit'"
check "the same search finds k and n where they are kept (the internal record)" bash -c "grep -rIqiE -- '$leaks' '$D/demo/internal'"
check "the report gives n - k, saying no public record holds k and n" grep -q 'k and n are in no public record' "$P/report.txt"
check "a recorded command line shows per-card sources without their count" grep -q '"--card-pin-sources","<confidential>"' "$D/demo/transcripts/root-keygen.jsonl"
# Not only the digits: nothing countable in the public record may add up to k or n
# either (issue 11.5). The dry runs and printed checklists of the shipped scripts are
# public too. In each public file, and in all of them together, the number of
# distinct Key Executive roles (KE<number>), of distinct card labels (card-<number>),
# and, per transcript, of records about cards or by a Key Executive, must be neither
# k nor n. The per-card steps are in the confidential annexes (internal/), which the
# public transcripts commit to; the same count there gives n (so the check can fail).
counts=$D/counts.py
cat >"$counts" <<'PY'
import json, os, re, sys
k, n, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
files = []
for folder in sys.argv[4:]:
    for root, _, names in os.walk(folder):
        files += [os.path.join(root, f) for f in names if not f.endswith(('.sig', '.pem', '.crl', '.der', '.blob'))]
found, all_roles, all_cards = [], set(), set()
for f in sorted(files):
    text = open(f, errors='replace').read()
    roles, cards = set(re.findall(r'\bKE[0-9]+\b', text)), set(re.findall(r'\bcard-[0-9]+\b', text))
    all_roles |= roles
    all_cards |= cards
    counted = {'Key Executive roles': len(roles), 'card labels': len(cards)}
    if f.endswith('.jsonl'):
        recs = [json.loads(l) for l in text.splitlines() if l.strip()]
        counted['records about cards'] = sum(1 for r in recs if r['action'].startswith(('card.', 'backup.card'))
                                             or (r['action'] == 'token.init' and 'card-' in json.dumps(r)))
        counted['step records by a Key Executive'] = sum(1 for r in recs if r['action'].startswith('step.')
                                                         and re.fullmatch(r'KE[0-9]+', str(r['details'].get('role', ''))))
    for what, c in counted.items():
        if c in (k, n):
            found.append('%s: %d %s' % (f, c, what))
for what, c in (('Key Executive roles', len(all_roles)), ('card labels', len(all_cards))):
    if c in (k, n):
        found.append('all of them together: %d %s' % (c, what))
print('\n'.join(found))
sys.exit(0 if (not found) == (mode == 'public') else 1)
PY
if found=$(/usr/bin/python3 "$counts" 3 5 public "$P" "$D/demo/transcripts" "$O" "$D/demo/media" "$D/demo/audit" 2>&1); then
	pass "no count in the public outputs (roles, cards, card records, per file and together) equals k or n"
else
	fail "no count in the public outputs (roles, cards, card records, per file and together) equals k or n" "$found"
fi
check "the same counts over the confidential annexes do give n (the check can fail)" \
	/usr/bin/python3 "$counts" 3 5 annex "$D/demo/internal"
commits() { # the public transcript's annex.commit names the annex's SHA-256 and its seal's
	local t
	for t in root-keygen rekey; do
		[ "$(jq -r 'select(.action == "annex.commit") | .details.sha256' "$D/demo/transcripts/$t.jsonl")" = \
			"$(sha256sum "$D/demo/internal/$t.annex.jsonl" | cut -d' ' -f1)" ] || return 1
		[ "$(jq -r 'select(.action == "annex.commit") | .details.seal_sha256' "$D/demo/transcripts/$t.jsonl")" = \
			"$(sha256sum "$D/demo/internal/$t.annex.jsonl.sig" | cut -d' ' -f1)" ] || return 1
	done
}
check "every public transcript with per-card steps commits to its sealed annex" commits
check "the audit says the annexes were not opened, and why" grep -q 'Not opened: 2 confidential annexes (the steps once per Key Executive card' "$D/demo-run.log"
check "... and lists them with each ceremony" grep -q 'per-card steps in a confidential annex, committed by hash, NOT OPENED here' "$D/demo-run.log"
check "a cleared auditor verifies each annex's seal against root.pem" bash -c "for a in '$D'/demo/internal/*.annex.jsonl; do \
	'$CEREMONY' transcript verify --root '$O/root.pem' \"\$a\" >/dev/null || exit 1; done"
check "the annexes hold the per-card steps (one card initialised per Key Executive)" \
	test "$(grep -c '"action":"token.init".*"label":"card-' "$D/demo/internal/root-keygen.annex.jsonl")" -eq 5
# Certificates and CRLs are public: 0644 whatever the umask; secrets' records stay 0600.
check "root.pem, the certificates, chains and the CRL are written 0644" bash -c "for f in '$O/root.pem' '$O/root.crl' '$D'/demo/media/out/*.pem; do [ \"\$(stat -c %a \"\$f\")\" = 644 ] || exit 1; done"
check "the internal record and the backup blob stay 0600" bash -c "[ \"\$(stat -c %a '$D/demo/internal/backup-internal.json')\" = 600 ] && [ \"\$(stat -c %a '$D/demo/backup-media/root-backup.blob')\" = 600 ]"
check "a second run replaces the demo folder" bash -c "DEMO_DIR='$D/demo' CEREMONY='$CEREMONY' ceremony-scripts/demo.sh >/dev/null 2>&1"
mkdir -p "$D/notdemo" && touch "$D/notdemo/keep"
expect_fail "a folder that is not a demo is left alone" 1 'not a demo folder' \
	env DEMO_DIR="$D/notdemo" CEREMONY="$CEREMONY" ceremony-scripts/demo.sh
check "its file is still there" test -f "$D/notdemo/keep"
finish

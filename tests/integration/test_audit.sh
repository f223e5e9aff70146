#!/usr/bin/env bash
# A root's whole life on real SoftHSM2 tokens: root key generation with two registered
# witnesses (sealed, countersigned by both), a signing ceremony, a CRL ceremony; then
# ceremony audit, transcript print, report, and tampering caught with a clear reason.
. "$(dirname "$0")/lib.sh"
setup_hsm
P=$T/profiles
H=$T/history
M=$T/media
mkdir -p "$H" "$M/csr" "$M/out" "$M/keys"
TR1=$H/0001-root-keygen.jsonl
TR2=$H/0002-sign.jsonl
TR3=$H/0003-crl.jsonl
ROOT=$T/out/root.pem
for c in root-hsm iw-card ke1-card ke2-card ke3-card evil-card; do new_token "$c"; done
for i in 1 2 3; do printf 'passphrase of KE%s' "$i" >"$T/pins/pass$i"; done

# Ceremony 1: root key, root certificate, two witnesses, a 2-of-3 backup; sealed; countersigned.
cer key generate --token root-hsm --label root --type ec-p384 --transcript "$TR1" --ceremony root-keygen >/dev/null
cer cert root --token root-hsm --key root --profile "$P/root.yaml" \
	--subject "/C=DE/O=ACME Devices/CN=ACME Devices Root CA" --out "$ROOT" --transcript "$TR1" >/dev/null
out=$(cer witness register --token iw-card --label iw-key --role IW --name "Iris Witness" --transcript "$TR1" 2>&1)
check "witness register generates a card key and shows its SPKI to read aloud" bash -c "printf '%s' \"\$1\" | grep -q 'Generated witness key \"iw-key\" on card \"iw-card\"' && printf '%s' \"\$1\" | grep -q 'read aloud'" _ "$out"
expect_ok "witness register for KE1" cer witness register --token ke1-card --label ke1-key --role KE1 --name "Karl Exec" --transcript "$TR1"
check "witness.register records role, card, key and spki, nested under witness" bash -c "grep '\"action\":\"witness.register\"' '$TR1' | head -1 | jq -e '.details.witness | .role == \"IW\" and .card.label == \"iw-card\" and .key.label == \"iw-key\" and (.spki_sha256 | length) == 64 and .evidence.CKA_EXTRACTABLE == false and .evidence.CKA_NEVER_EXTRACTABLE == true and .evidence.CKA_LOCAL == true'"
objs=$(pkcs11-tool --module "$CEREMONY_MODULE" --token-label iw-card --login --pin "$(cat "$T/pins/user")" --list-objects 2>/dev/null)
check "pkcs11-tool: the witness key is sensitive, not extractable, sign only" bash -c "printf '%s\n' \"\$1\" | grep -A12 'Private Key Object; EC' | grep 'Usage:' | grep -qx ' *Usage: *sign' && printf '%s\n' \"\$1\" | grep -A12 'Private Key Object; EC' | grep 'Access:' | grep -q 'never extractable'" _ "$objs"
expect_fail "witness register refuses a role that cannot name a file" 1 'role "I/W": use only letters' \
	cer witness register --token iw-card --label iw-key --role "I/W" --name x --transcript "$T/transcripts/x.jsonl"
cer backup create --test-cost --token root-hsm --key root --threshold 2 --shares 3 --cards ke1-card,ke2-card,ke3-card \
	--holders "Karl Exec,Kim Exec,Kai Exec" \
	--card-pin-sources "file:$T/pins/user,file:$T/pins/user,file:$T/pins/user" \
	--passphrase-sources "file:$T/pins/pass1,file:$T/pins/pass2,file:$T/pins/pass3" \
	--out "$T/out/root.blob" --internal-record "$T/out/internal.json" --transcript "$TR1" >/dev/null
expect_fail "countersigning an unsealed transcript is refused" 1 'is not sealed.*nothing signed' \
	cer transcript countersign --token iw-card --key iw-key --role IW "$TR1"
check "nothing was written" test ! -e "$TR1.countersig-IW"
SIGNER=$T/out/signer.pem
cer cert signer --token root-hsm --key root --issuer "$ROOT" --profile "$P/ceremony-signer.yaml" --label signing \
	--out "$SIGNER" --transcript "$TR1" >/dev/null || fatal "cert signer"
cer transcript seal --token root-hsm --key signing "$TR1" >/dev/null
expect_ok "IW countersigns" cer transcript countersign --token iw-card --key iw-key --role IW "$TR1"
expect_ok "KE1 countersigns" cer transcript countersign --token ke1-card --key ke1-key --role KE1 "$TR1"
expect_fail "a countersignature is never overwritten" 1 'already exists' \
	cer transcript countersign --token iw-card --key iw-key --role IW "$TR1"
check "the countersignature is JSON with role, hashes and a signature" jq -e \
	'.format == "ceremony-countersignature-v1" and .role == "IW" and .transcript == "0001-root-keygen.jsonl" and .signature_algorithm == "ecdsa-with-SHA256"' "$TR1.countersig-IW"
check "its transcript_sha256 is the file's SHA-256" test "$(jq -r .transcript_sha256 "$TR1.countersig-IW")" = "$(sha256sum "$TR1" | cut -c1-64)"
# OpenSSL alone: the registered key (DER SPKI from the transcript) verifies the signature.
grep '"action":"witness.register"' "$TR1" | head -1 | jq -r .details.witness.spki | xxd -r -p >"$T/iw.spki.der"
jq -r .signature "$TR1.countersig-IW" | xxd -r -p >"$T/iw.sig.der"
check "openssl dgst -verify accepts the countersignature with the registered key" \
	openssl dgst -sha256 -verify "$T/iw.spki.der" -keyform DER -signature "$T/iw.sig.der" "$TR1"
out=$("$CEREMONY" transcript verify --allow-test-cost --root "$ROOT" "$TR1" 2>&1)
check "transcript verify checks both countersignatures" bash -c "printf '%s' \"\$1\" | grep -q 'Countersigned by IW, KE1: 2 countersignatures verified'" _ "$out"

# Ceremony 2: two certificates from CSRs, linked to ceremony 1.
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$M/keys/f1.key" \
	-subj "/C=DE/O=ACME Devices/CN=ACME Factory 1 IDevID CA" -out "$M/csr/factory-1.csr" 2>/dev/null
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$M/keys/masa.key" \
	-subj "/C=DE/O=ACME Devices/CN=ACME MASA voucher signer" -out "$M/csr/masa.csr" 2>/dev/null
sign() { # PROFILE NAME TRANSCRIPT [args]
	local prof=$1 name=$2 tr=$3
	shift 3
	cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$P/$prof.yaml" \
		--csr "$M/csr/$name.csr" --expect-file "$(pins_for "$M/csr/$name.csr")" --out "$M/out/$name.pem" --transcript "$tr" "$@" >/dev/null
}
sign intermediate-ca factory-1 "$TR2" --previous "$TR1" --ceremony sign-2027
sign masa-voucher-signer masa "$TR2"
cer transcript seal --token root-hsm --key signing --cert "$SIGNER" "$TR2" >/dev/null
# Ceremony 3: the root CRL, revoking the MASA signer.
masa_serial=$(openssl x509 -in "$M/out/masa.pem" -noout -serial | cut -d= -f2)
cer crl sign --token root-hsm --key root --issuer "$ROOT" --revoke "$masa_serial" --reason superseded \
	--next-update 30 --out "$M/out/root.crl" --transcript "$TR3" --previous "$TR2" --ceremony crl-2027 >/dev/null
cer transcript seal --token root-hsm --key signing --cert "$SIGNER" "$TR3" >/dev/null

START=$SECONDS
out=$("$CEREMONY" audit --allow-test-cost --root "$ROOT" "$H" 2>&1)
rc=$?
check "audit passes the whole history" test "$rc" -eq 0
# Issue 9 item 14: the backup was sealed at the test cost; the auditor must say so.
expect_fail "audit fails on the test-cost backup unless --allow-test-cost" 1 'sealed at the TEST Argon2id cost' \
	"$CEREMONY" audit --root "$ROOT" "$H"
printf 'argon2_cost: test\n' >"$T/test-cost.yaml"
expect_fail "... also when the configuration says argon2_cost: test (only a step of ceremony run counts it)" 1 \
	'sealed at the TEST Argon2id cost' "$CEREMONY" --config "$T/test-cost.yaml" audit --root "$ROOT" "$H"
expect_fail "CEREMONY_TEST_ARGON2 is refused with what to use instead" 2 'CEREMONY_TEST_ARGON2 is no longer read; unset it and put "argon2_cost: test" in ceremony.yaml or give --test-cost' \
	env CEREMONY_TEST_ARGON2=1 "$CEREMONY" audit --allow-test-cost --root "$ROOT" "$H"
printf '%s\n' "$out" | sed 's/^/# /'
has() { printf '%s\n' "$out" | grep -qE -- "$1"; }
check "audit: ceremony 1 sealed and countersigned by IW and KE1" has '^0001 0001-root-keygen.jsonl +root-keygen .* sealed ✓  countersigned by IW, KE1 ✓  2 witness keys registered'
check "audit: ceremony 1 shows the backup" has '^0001 .*backup created'
check "audit: ceremony 2 replays its 2 certificates" has '^0002 0002-sign.jsonl +sign-2027 .* sealed ✓  2 certificates replayed ✓'
check "audit: ceremony 3 has CRL 1" has '^0003 0003-crl.jsonl +crl-2027 .* sealed ✓  CRL 1 replayed ✓'
check "audit: the intermediate is live" has 'CN=ACME Factory 1 IDevID CA'
check "audit: the revoked MASA signer is not in the live list" bash -c "! printf '%s\n' \"\$1\" | sed -n '/^Live/,/^Revoked/p' | grep -q 'MASA'" _ "$out"
check "audit: the revocation is listed" has "serial $masa_serial +superseded"
check "audit: the backup is counted" has '^Backups: 1 created, 0 superseded'
check "audit: the summary line" has '^History intact: 3 ceremonies, [0-9]+ records, 1 live certificate, CRL number 1\.'
# Issue 9.10: without --root, the history's own root proves only self-consistency.
expect_fail "audit without --root is unanchored and refused" 2 'audit without --root is unanchored' "$CEREMONY" audit --allow-test-cost "$H"
out=$("$CEREMONY" audit --allow-test-cost --allow-unanchored "$H" 2>&1)
check "audit --allow-unanchored passes and says UNANCHORED" bash -c "printf '%s' \"\$1\" | grep -q 'UNANCHORED' && printf '%s' \"\$1\" | grep -q '^History intact (unanchored)'" _ "$out"
out=$("$CEREMONY" audit --allow-test-cost --root "$ROOT" --verbose "$H" 2>&1)
check "audit --verbose gives a verdict per record and per countersignature" bash -c "printf '%s' \"\$1\" | grep -q 'line 2: key.generate *ok' && printf '%s' \"\$1\" | grep -q 'countersigned by KE1: key registered at 0001-root-keygen.jsonl line' && printf '%s' \"\$1\" | grep -q 'certificate replayed: signature, key, subject, profile'" _ "$out"
echo "# audit took $((SECONDS - START)) s"

# Tampering: each on a copy of the folder (recorded paths ../out, ../media resolve the same).
copy() { rm -rf "$T/c"; cp -a "$H" "$T/c"; echo "$T/c"; }
c=$(copy); rm "$c"/0002-sign.jsonl*
expect_fail "a removed ceremony is caught" 1 '0003-crl.jsonl line 1: its previous ceremony \(0002-sign.jsonl\) is not in the folder' \
	"$CEREMONY" audit --allow-test-cost --allow-unanchored "$c"
c=$(copy)
(cd "$c" && for f in 0002-sign.jsonl*; do mv "$f" "${f/0002-sign/swap}"; done &&
	for f in 0003-crl.jsonl*; do mv "$f" "${f/0003-crl/0002-sign}"; done &&
	for f in swap.jsonl*; do mv "$f" "${f/swap/0003-crl}"; done)
expect_fail "a reordered pair is caught" 1 '0002-sign.jsonl line 1: names its previous ceremony 0002-sign.jsonl, but that transcript is now 0003-crl.jsonl: files were renamed or reordered' \
	"$CEREMONY" audit --allow-test-cost --allow-unanchored "$c"
c=$(copy); sed -i '2s/"time":"/"time":"1/' "$c/0002-sign.jsonl"
expect_fail "an edited step is caught, naming file and line" 1 '0002-sign.jsonl line 3: prev does not match the SHA-256 of line 2' \
	"$CEREMONY" audit --allow-test-cost --allow-unanchored "$c"
c=$(copy); rm "$c/0002-sign.jsonl.sig"
expect_fail "an unsealed ceremony in the middle is caught" 1 '0003-crl.jsonl line 1: the seal of 0002-sign.jsonl is not the one recorded' \
	"$CEREMONY" audit --allow-test-cost --allow-unanchored "$c"
c=$(copy); cp "$H/0001-root-keygen.jsonl" "$c/0009-fork.jsonl"; cp "$H/0001-root-keygen.jsonl.sig" "$c/0009-fork.jsonl.sig"
expect_fail "a second first ceremony (a fork) is caught" 1 'a second first ceremony .*the history forks' "$CEREMONY" audit --allow-test-cost --allow-unanchored "$c"
# A certificate swapped for one with the same subject signed by another key.
cp "$M/out/factory-1.pem" "$T/f1.orig"
openssl req -x509 -new -key "$M/keys/f1.key" -subj "/C=DE/O=ACME Devices/CN=ACME Factory 1 IDevID CA" -days 30 -out "$T/f1.fake" 2>/dev/null
chmod u+w "$M/out/factory-1.pem"; cp "$T/f1.fake" "$M/out/factory-1.pem"
expect_fail "a certificate swapped for one signed by another key is caught" 1 '0002-sign.jsonl line 2: output .*factory-1.pem has changed' \
	"$CEREMONY" audit --allow-test-cost --allow-unanchored "$H"
cp "$T/f1.orig" "$M/out/factory-1.pem"
# A reused serial: a later, properly sealed ceremony re-records ceremony 2's certificate.
c=$(copy); TR4=$c/0004-later.jsonl
cer crl sign --token root-hsm --key root --issuer "$ROOT" --next-update 30 --out "$M/out/root2.crl" \
	--transcript "$TR4" --previous "$c/0003-crl.jsonl" --ceremony later >/dev/null
prev=$(tail -n1 "$TR4" | tr -d '\n' | sha256sum | cut -c1-64)
sed -n 2p "$c/0002-sign.jsonl" | jq -c --arg p "$prev" '.seq = 3 | .ceremony = "later" | .prev = $p' >>"$TR4"
cer transcript seal --token root-hsm --key signing --cert "$SIGNER" "$TR4" >/dev/null
expect_fail "a reused serial is caught across ceremonies" 1 '0004-later.jsonl line 3: serial [0-9A-F]+ was already used \(0002-sign.jsonl line 2\)' \
	"$CEREMONY" audit --allow-test-cost --allow-unanchored "$c"
# Issue 10.2 over the whole history: a later ceremony, whose issuance was shown no history,
# makes a CA named like ceremony 2's; audit names both places, from the records alone.
c=$(copy); TR4=$c/0004-dup-ca.jsonl
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$M/keys/dup.key" \
	-subj "/C=DE/O=ACME Devices/CN=ACME Factory 1 IDevID CA" -out "$M/csr/dup.csr" 2>/dev/null
cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$P/intermediate-ca.yaml" --csr "$M/csr/dup.csr" --expect-file "$(pins_for "$M/csr/dup.csr")" \
	--out "$M/out/dup.pem" --transcript "$TR4" --previous "$c/0003-crl.jsonl" --ceremony dup --history "$T/none" >/dev/null ||
	fatal "cert sign of the duplicate CA name"
cer transcript seal --token root-hsm --key signing --cert "$SIGNER" "$TR4" >/dev/null || fatal "seal"
expect_ok "each ceremony alone verifies (the name is unique within it)" "$CEREMONY" transcript verify --allow-test-cost --root "$ROOT" "$TR4"
expect_fail "a CA name used in an earlier ceremony is caught across the history" 1 \
	'0004-dup-ca.jsonl line 2: lint cert-ca-name-unique: the CA subject .*ACME Factory 1 IDevID CA.* has the name of the CA certificate at 0002-sign.jsonl line 2' \
	"$CEREMONY" audit --allow-test-cost --allow-unanchored "$c"
mv "$M/out/dup.pem" "$M/out/dup.pem.away"
expect_fail "... even when the certificates are not in the copy" 1 '0004-dup-ca.jsonl line 2: lint cert-ca-name-unique' \
	"$CEREMONY" audit --allow-test-cost --allow-unanchored --partial "$c"
rm -f "$M/out/dup.pem.away" "$M/out/dup-chain.pem" "$M/csr/dup.csr"
# The same with another organisation: the CN alone is ceremony 2's CA's (issue 13: the
# audit finds the clash through a hash of the CN, not a scan of every earlier CA).
c=$(copy); TR4=$c/0004-dup-cn.jsonl
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$M/keys/dupcn.key" \
	-subj "/C=DE/O=ACME Elsewhere/CN=ACME Factory 1 IDevID CA" -out "$M/csr/dupcn.csr" 2>/dev/null
cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$P/intermediate-ca.yaml" --csr "$M/csr/dupcn.csr" --expect-file "$(pins_for "$M/csr/dupcn.csr")" \
	--out "$M/out/dupcn.pem" --transcript "$TR4" --previous "$c/0003-crl.jsonl" --ceremony dupcn --history "$T/none" >/dev/null ||
	fatal "cert sign of the duplicate CA CN"
cer transcript seal --token root-hsm --key signing --cert "$SIGNER" "$TR4" >/dev/null || fatal "seal"
expect_fail "a CA CN used in an earlier ceremony (other O) is caught across the history" 1 \
	'0004-dup-cn.jsonl line 2: lint cert-ca-name-unique: the CA subject .*ACME Elsewhere.* has the CN of the CA certificate at 0002-sign.jsonl line 2' \
	"$CEREMONY" audit --allow-test-cost --allow-unanchored "$c"
rm -f "$M/out/dupcn.pem" "$M/out/dupcn-chain.pem" "$M/csr/dupcn.csr"
# Countersignatures: forged by an unregistered key, over another transcript, renamed.
cer witness register --token evil-card --label evil --role IW --name Mallory --transcript "$T/transcripts/evil.jsonl" >/dev/null
c=$(copy); rm "$c/0001-root-keygen.jsonl.countersig-IW"
cer transcript countersign --token evil-card --key evil --role IW "$c/0001-root-keygen.jsonl" >/dev/null
expect_fail "a forged countersignature (unregistered key) is caught by audit" 1 '0001-root-keygen.jsonl.countersig-IW: signed by key [0-9a-f]+\.\.\., which no transcript registers' \
	"$CEREMONY" audit --allow-test-cost --allow-unanchored "$c"
expect_fail "and by transcript verify" 1 'countersig-IW: signed by key .* which no transcript registers' \
	"$CEREMONY" transcript verify --allow-test-cost --root "$ROOT" "$c/0001-root-keygen.jsonl"
c=$(copy); cp "$H/0001-root-keygen.jsonl.countersig-IW" "$c/0002-sign.jsonl.countersig-IW"
expect_fail "a countersignature over a different transcript is caught" 1 '0002-sign.jsonl.countersig-IW: countersigns a different transcript' \
	"$CEREMONY" audit --allow-test-cost --allow-unanchored "$c"
expect_fail "transcript verify --registry finds the same" 1 'countersigns a different transcript' \
	"$CEREMONY" transcript verify --allow-test-cost --root "$ROOT" --registry "$H" "$c/0002-sign.jsonl"
c=$(copy); mv "$c/0001-root-keygen.jsonl.countersig-KE1" "$c/0001-root-keygen.jsonl.countersig-SO"
expect_fail "a countersignature renamed to another role is caught" 1 'countersig-SO: says role "KE1", but its name says "SO"' \
	"$CEREMONY" audit --allow-test-cost --allow-unanchored "$c"
c=$(copy); jq '.signature = "3006020101020101"' "$H/0001-root-keygen.jsonl.countersig-KE1" >"$c/0001-root-keygen.jsonl.countersig-KE1"
expect_fail "a bad signature is caught" 1 'countersig-KE1: the signature does not verify with KE1.s registered key' \
	"$CEREMONY" audit --allow-test-cost --allow-unanchored "$c"

# transcript print, text and HTML; a hostile subject and name are escaped.
out=$("$CEREMONY" transcript print "$TR1" 2>&1)
check "print: records with time and action" bash -c "printf '%s' \"\$1\" | grep -qE '^#2 +[0-9T:-]+Z  key.generate'" _ "$out"
spki=$(grep '"action":"key.generate"' "$TR1" | jq -r .details.spki_sha256)
grouped=$(printf '%s' "$spki" | cut -c1-16 | sed 's/\(....\)/\1 /g; s/ $//')
check "print: the root key's SPKI hash in groups, with words" bash -c "printf '%s' \"\$1\" | grep -A1 'spki_sha256' | grep -q '$grouped' && printf '%s' \"\$1\" | grep -A1 'spki_sha256' | grep -q 'read aloud (words 1-8 of 32, as on screen): \"'" _ "$out"
# One length to read aloud on screen and on paper (issue 11.10): the screen's 8 words are
# the words the printout marks, and both say which part of the hash they are.
last=$(ls "$H"/*.jsonl | sort | tail -n1)
screen=$("$CEREMONY" audit --allow-test-cost --root "$ROOT" "$H" 2>&1 | grep -A1 'last head' | sed -n 's/.*read aloud *"\([^"]*\)" (words 1-8 of 32)$/\1/p')
paper=$("$CEREMONY" transcript print "$last" 2>&1 | grep -A1 'head (last line)' | sed -n 's/.*read aloud (words 1-8 of 32, as on screen): "\([^"]*\)"$/\1/p')
check "the words read aloud on screen are the ones the printout marks" test -n "$screen" -a "$screen" = "$paper"
check "print: the witness registration" bash -c "printf '%s' \"\$1\" | grep -q 'witness  *role IW, name Iris Witness'" _ "$out"
HT=$T/transcripts/hostile.jsonl
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$M/keys/h.key" \
	-subj "/C=DE/O=ACME Devices/CN=ACME <script>alert(1)<\/script> & \"Co\" IDevID CA" -out "$M/csr/hostile.csr" 2>/dev/null
expect_ok "a CSR with a hostile subject is signed" sign intermediate-ca hostile "$HT" --ceremony "<b>bold</b>"
cer witness register --token iw-card --label iw-key --role IW --name "<img src=x onerror=alert(2)>" --transcript "$HT" >/dev/null
"$CEREMONY" transcript print --html "$HT" >"$T/hostile.html"
check "print --html: a page" grep -q '^<!DOCTYPE html>' "$T/hostile.html"
check "print --html: the hostile name is escaped" grep -q '&lt;img src=x onerror=alert(2)&gt;' "$T/hostile.html"
check "print --html: the hostile ceremony id is escaped" grep -q '&lt;b&gt;bold&lt;/b&gt;' "$T/hostile.html"
# (the subject is recorded as RFC 4514 text, which escapes < > " with a backslash)
check "print --html: the hostile subject is escaped" grep -qF 'CN=ACME \&lt;script\&gt;alert(1)\&lt;/script\&gt; &amp; \&quot;Co\&quot; IDevID CA' "$T/hostile.html"
check "print --html: no markup from the transcript survives" bash -c "! grep -qE '<script|<img|<b>' '$T/hostile.html'"
check "print --html: tidy-free check, tags balance" bash -c "[ \$(grep -o '<section' '$T/hostile.html' | wc -l) -eq \$(grep -o '</section>' '$T/hostile.html' | wc -l) ]"

# report: the disclosure answers, never k, n or names.
out=$("$CEREMONY" report "$H" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
check "report runs" test "$rc" -eq 0
has() { printf '%s\n' "$out" | grep -qE -- "$1"; }
check "report: pkilevel 3 via one subordinate CA, pathLen 0" has '^   3: the root signed 1 subordinate CA \(pathLenConstraint 0\)'
check "report: pkilevel 2 for the voucher signer" has '^   2: for 1 end-entity certificate'
check "report: the intermediate's life" has 'issued [0-9-]+, notAfter 9999-12-31 \(no expiry'
check "report: says the root's transcripts cannot count device certificates" has 'not known from the root.s transcripts'
check "report: the HSM model and manufacturer" has 'manufacturer "SoftHSM project", model "SoftHSM v2"'
check "report: spare shares n - k = 1" has '^   1 \(the backup of [0-9-]+; k and n are in no public record these transcripts hold\)'
check "report: no names" bash -c "! printf '%s' \"\$1\" | grep -qiE 'Iris|Karl|Kim|Kai|Mallory|holder'" _ "$out"
check "report: no k or n" bash -c "! printf '%s' \"\$1\" | grep -qiE 'threshold|2 of 3|2-of-3|of 3 |shares: 3|k = |n = '" _ "$out"
finish

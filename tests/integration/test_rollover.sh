#!/usr/bin/env bash
# Root rollover: a new root cross-certified both ways (cert cross); devices that
# trust only one root reach certificates of the other through the cross
# certificates (openssl verify -x509_strict); audit follows the history across
# the rollover, checks each root's issuance under its own key, and flags the old
# root issuing afterwards unless the rollover allowed it.
. "$(dirname "$0")/lib.sh"
setup_hsm
A=$T/archive
mkdir -p "$A/transcripts" "$A/out" "$T/keys" "$A/csr"
# Each archive holds its profiles: recorded paths are followed only inside it.
cp -r "$T/profiles" "$A/profiles"
P=$A/profiles
PROFILES=$P
TR1=$A/transcripts/0001-root.jsonl TR2=$A/transcripts/0002-rollover.jsonl
TR3=$A/transcripts/0003-sign.jsonl TR4=$A/transcripts/0004-sign-old.jsonl
OLD=$A/out/root.pem NEW=$A/out/root-2.pem
CROSS=$A/out/cross-root-signs-root-2.pem LINK=$A/out/cross-root-2-signs-root.pem
csr() { openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/keys/$1.key" \
	-subj "/C=DE/O=ACME Devices/CN=$2" -out "$A/csr/$1.csr" 2>/dev/null || fatal "csr $1"; }
sign() { # KEY ISSUER CSR OUT TRANSCRIPT
	cer cert sign --token root-hsm --key "$1" --issuer "$2" --profile "$P/intermediate-ca.yaml" \
		--csr "$A/csr/$3.csr" --expect-file "$(pins_for "$A/csr/$3.csr")" --out "$4" --transcript "$5" >/dev/null
}
seal() { cer transcript seal --token root-hsm --key "$1" --cert "$2" "$3" >/dev/null || fatal "seal $3"; }
# signer ROOT-KEY ROOT-CERT LABEL OUT TRANSCRIPT PROFILES: the root certifies a ceremony-signing key.
signer() { cer cert signer --token root-hsm --key "$1" --issuer "$2" --profile "$6/ceremony-signer.yaml" \
	--label "$3" --out "$4" --transcript "$5" >/dev/null || fatal "cert signer $3"; }
device() { # CA-CERT CA-KEY NAME: a device certificate under an intermediate, made as a factory would
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/keys/$3.key" \
		-subj "/O=ACME Devices/serialNumber=$3" -out "$T/$3.csr" 2>/dev/null &&
		printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >"$T/dev.ext" &&
		openssl x509 -req -in "$T/$3.csr" -CA "$1" -CAkey "$2" -CAcreateserial -days 3650 -sha256 \
			-extfile "$T/dev.ext" -out "$T/$3.pem" 2>/dev/null || fatal "device $3"
}

make_root root-hsm root ec-p384 "$TR1" "$OLD"
csr old-ica "ACME Factory 1 IDevID CA"
sign root "$OLD" old-ica "$A/out/old-ica.pem" "$TR1" || fatal "sign under the old root"
S1=$A/out/signer-1.pem
signer root "$OLD" signing-1 "$S1" "$TR1" "$P"
seal signing-1 "$S1" "$TR1"

# Ceremony 2: the rollover.
cer key generate --token root-hsm --label root-2 --type ec-p384 --transcript "$TR2" --previous "$TR1" >/dev/null || fatal "key 2"
cer cert root --token root-hsm --key root-2 --profile "$P/root.yaml" --subject "/C=DE/O=ACME Devices/CN=ACME Devices Root CA 2046" \
	--out "$NEW" --transcript "$TR2" >/dev/null || fatal "root 2"
expect_fail "cert cross refuses the same root on both sides" 1 "certify the same key" \
	cer cert cross --token root-hsm --key root --issuer-cert "$OLD" --subject-cert "$OLD" --profile "$P/root.yaml" --out "$T/x.pem" --transcript "$TR2"
expect_fail "cert cross refuses a certificate that is not the key's" 1 "is not the certificate of key \"root-2\"; nothing was signed" \
	cer cert cross --token root-hsm --key root-2 --issuer-cert "$OLD" --subject-cert "$NEW" --profile "$P/root.yaml" --out "$T/x.pem" --transcript "$TR2"
expect_fail "cert cross refuses a non-root subject" 1 "not a self-signed CA certificate" \
	cer cert cross --token root-hsm --key root --issuer-cert "$OLD" --subject-cert "$A/out/old-ica.pem" --profile "$P/root.yaml" --out "$T/x.pem" --transcript "$TR2"
check "nothing was written by the refusals" test ! -e "$T/x.pem"
expect_ok "old-with-new: the old root certifies the new key" cer cert cross --token root-hsm --key root \
	--issuer-cert "$OLD" --subject-cert "$NEW" --profile "$P/root.yaml" --out "$CROSS" --transcript "$TR2"
expect_ok "new-with-old: the new root certifies the old key" cer cert cross --token root-hsm --key root-2 \
	--issuer-cert "$NEW" --subject-cert "$OLD" --profile "$P/root.yaml" --out "$LINK" --transcript "$TR2"
expect_fail "cert cross never overwrites" 1 "exists" cer cert cross --token root-hsm --key root \
	--issuer-cert "$OLD" --subject-cert "$NEW" --profile "$P/root.yaml" --out "$CROSS" --transcript "$TR2"
# A kill between writing the link certificate and recording it (its record cut off the
# transcript's end): the rerun records what it finds and signs nothing.
check "the last record is the link's cert.cross" bash -c "tail -n1 '$TR2' | grep -q '\"action\":\"cert.cross\"'"
sed -i '$d' "$TR2"
linksum=$(sha256sum <"$LINK")
out=$(cer cert cross --token root-hsm --key root-2 --issuer-cert "$NEW" --subject-cert "$OLD" --profile "$P/root.yaml" \
	--out "$LINK" --transcript "$TR2" 2>&1) && pass "cert cross rerun records the link an interrupted run wrote" ||
	fail "cert cross rerun records the link an interrupted run wrote" "$out"
expect_contains "it says nothing was signed" "$out" "an interrupted run wrote it and did not record it; recorded now (nothing was signed)"
check "the link is the same bytes" test "$(sha256sum <"$LINK")" = "$linksum"
check "its record is marked recorded_after_interruption" bash -c "tail -n1 '$TR2' | grep -q '\"recorded_after_interruption\":true'"
expect_fail "cert cross refuses a rerun of a recorded link" 1 "the history records it" cer cert cross --token root-hsm \
	--key root-2 --issuer-cert "$NEW" --subject-cert "$OLD" --profile "$P/root.yaml" --out "$LINK" --transcript "$TR2"
expect_fail "cert cross refuses another certificate in the output's place" 1 "is not the cross certificate this command makes" \
	cer cert cross --token root-hsm --key root-2 --issuer-cert "$NEW" --subject-cert "$OLD" --profile "$P/root.yaml" \
	--out "$CROSS" --transcript "$TR2"
check "cert.cross is recorded with both keys' SPKI hashes" bash -c "grep '\"action\":\"cert.cross\"' '$TR2' | head -1 | jq -e '(.details.issuer_spki_sha256 | length) == 64 and (.details.subject_spki_sha256 | length) == 64 and .details.old_root_may_issue == false'"
seal signing-1 "$S1" "$TR2"
check "the cross certificate has the new root's SKI and the old root's key id as AKI" bash -c "
	[ \"\$(openssl x509 -in '$CROSS' -noout -ext subjectKeyIdentifier | tail -1)\" = \"\$(openssl x509 -in '$NEW' -noout -ext subjectKeyIdentifier | tail -1)\" ] &&
	[ \"\$(openssl x509 -in '$CROSS' -noout -ext authorityKeyIdentifier | tail -1 | tr -d ' ')\" = \"\$(openssl x509 -in '$OLD' -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' ')\" ]"
check "certtool reads the cross certificate as a CA" bash -c "certtool -i --infile '$CROSS' | grep -q 'Certificate Authority (CA): TRUE'"

# Ceremony 3: the new root issues; sealed by the new root's own ceremony-signing key.
csr new-ica "ACME Factory 2 IDevID CA"
expect_ok "the new root signs an intermediate" cer cert sign --token root-hsm --key root-2 --issuer "$NEW" \
	--profile "$P/intermediate-ca.yaml" --csr "$A/csr/new-ica.csr" --expect-file "$(pins_for "$A/csr/new-ica.csr")" --out "$A/out/new-ica.pem" --transcript "$TR3" --previous "$TR2"
S2=$A/out/signer-2.pem
signer root-2 "$NEW" signing-2 "$S2" "$TR3" "$P"
seal signing-2 "$S2" "$TR3"
device "$A/out/new-ica.pem" "$T/keys/new-ica.key" dev-new
device "$A/out/old-ica.pem" "$T/keys/old-ica.key" dev-old
expect_ok "openssl -x509_strict: a device under the new root, only the OLD root trusted (through the cross certificate)" \
	openssl verify -x509_strict -CAfile "$OLD" -untrusted <(cat "$CROSS" "$A/out/new-ica.pem") "$T/dev-new.pem"
expect_ok "openssl -x509_strict: a device under the old root, only the NEW root trusted (through the link certificate)" \
	openssl verify -x509_strict -CAfile "$NEW" -untrusted <(cat "$LINK" "$A/out/old-ica.pem") "$T/dev-old.pem"
check "without the cross certificate the old root does not reach the new device" bash -c "! openssl verify -x509_strict -CAfile '$OLD' -untrusted '$A/out/new-ica.pem' '$T/dev-new.pem' >/dev/null 2>&1"
out=$("$CEREMONY" audit --root "$OLD" "$A/transcripts" 2>&1)
rc=$?
expect_eq "audit follows the history across the rollover" 0 "$rc"
expect_contains "audit names the rollover and the new root" "$out" "rollover in 0002-rollover.jsonl: root 2 is /C=DE/O=ACME Devices/CN=ACME Devices Root CA 2046, cross-certified by root 1; the old root issues no more"
expect_contains "audit counts two roots" "$out" "2 roots (rolled over)"
out=$("$CEREMONY" report "$A/transcripts" 2>&1)
expect_contains "report lists both roots" "$out" "the history holds 2 root certificates, linked by 2 cross certificates"

# Ceremony 4: the OLD root issues after the rollover: flagged.
csr late-ica "ACME Factory 3 IDevID CA"
cer cert sign --token root-hsm --key root --issuer "$OLD" --profile "$P/intermediate-ca.yaml" \
	--csr "$A/csr/late-ica.csr" --expect-file "$(pins_for "$A/csr/late-ica.csr")" --out "$A/out/late-ica.pem" --transcript "$TR4" --previous "$TR3" >/dev/null ||
	fatal "the old root signs after the rollover"
seal signing-2 "$S2" "$TR4"
out=$("$CEREMONY" audit --root "$OLD" "$A/transcripts" 2>&1)
rc=$?
expect_eq "audit fails when the old root issues after the rollover" 1 "$rc"
expect_contains "... naming the ceremony and the reason" "$out" "0004-sign-old.jsonl line"
expect_contains "... as issuance by a root no longer in force" "$out" "not the given root"

# A second history whose rollover lets the old root go on issuing: audit holds.
B=$T/b
mkdir -p "$B/transcripts" "$B/out"
cp "$TR1" "$TR1.sig" "$B/transcripts/" && cp "$OLD" "$A/out/old-ica.pem" "$A/out/old-ica-chain.pem" "$S1" "$B/out/" && cp -r "$P" "$B/profiles" && cp -r "$A/csr" "$B/csr"
BR=$B/transcripts/0002-rollover.jsonl
cer key generate --token root-hsm --label root-3 --type ec-p384 --transcript "$BR" --previous "$B/transcripts/0001-root.jsonl" >/dev/null || fatal "key 3"
cer cert root --token root-hsm --key root-3 --profile "$B/profiles/root.yaml" --subject "/C=DE/O=ACME Devices/CN=ACME Devices Root CA 2047" \
	--out "$B/out/root-2.pem" --transcript "$BR" >/dev/null || fatal "root 3"
expect_ok "a rollover that lets the old root go on issuing (recorded)" cer cert cross --token root-hsm --key root \
	--issuer-cert "$B/out/root.pem" --subject-cert "$B/out/root-2.pem" --profile "$B/profiles/root.yaml" --out "$B/out/cross.pem" \
	--old-root-may-issue --transcript "$BR"
seal signing-1 "$B/out/signer-1.pem" "$BR"
BS=$B/transcripts/0003-sign-old.jsonl
cer cert sign --token root-hsm --key root --issuer "$B/out/root.pem" --profile "$B/profiles/intermediate-ca.yaml" \
	--csr "$B/csr/late-ica.csr" --expect-file "$(pins_for "$B/csr/late-ica.csr")" --out "$B/out/late-ica.pem" --transcript "$BS" --previous "$BR" >/dev/null || fatal "late sign"
signer root-3 "$B/out/root-2.pem" signing-3 "$B/out/signer-3.pem" "$BS" "$B/profiles"
seal signing-3 "$B/out/signer-3.pem" "$BS"
out=$("$CEREMONY" audit --root "$B/out/root.pem" "$B/transcripts" 2>&1)
rc=$?
expect_eq "audit holds when the rollover allowed the old root to issue" 0 "$rc"
expect_contains "... and says so" "$out" "the old root may still issue (recorded)"

# A second root without a cross certificate is no rollover.
C=$T/c
mkdir -p "$C/transcripts" "$C/out"
cp "$TR1" "$TR1.sig" "$C/transcripts/" && cp "$OLD" "$A/out/old-ica.pem" "$A/out/old-ica-chain.pem" "$S1" "$C/out/" && cp -r "$P" "$C/profiles" && cp -r "$A/csr" "$C/csr"
CR=$C/transcripts/0002-rogue.jsonl
cer key generate --token root-hsm --label rogue --type ec-p384 --transcript "$CR" --previous "$C/transcripts/0001-root.jsonl" >/dev/null || fatal "rogue key"
cer cert root --token root-hsm --key rogue --profile "$C/profiles/root.yaml" --subject "/C=DE/O=ACME Devices/CN=Rogue Root" \
	--out "$C/out/rogue.pem" --transcript "$CR" >/dev/null || fatal "rogue root"
seal signing-1 "$C/out/signer-1.pem" "$CR"
out=$("$CEREMONY" audit --root "$C/out/root.pem" "$C/transcripts" 2>&1)
rc=$?
expect_eq "audit fails on a second root that no cross certificate links" 1 "$rc"
expect_contains "... naming it" "$out" "a second root (/C=DE/O=ACME Devices/CN=Rogue Root) that no cert.cross by the root in force certifies"
# A cross certificate for a root the history never made is no rollover: flagged.
D=$T/d
mkdir -p "$D/transcripts" "$D/out"
cp "$TR1" "$TR1.sig" "$D/transcripts/" && cp "$OLD" "$A/out/old-ica.pem" "$A/out/old-ica-chain.pem" "$S1" "$D/out/" && cp -r "$P" "$D/profiles" && cp -r "$A/csr" "$D/csr"
openssl req -x509 -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/keys/foreign.key" \
	-subj "/CN=Foreign Root" -days 3650 -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign -out "$D/out/foreign.pem" 2>/dev/null || fatal "foreign root"
DR=$D/transcripts/0002-foreign.jsonl
expect_ok "cert cross of a root made outside the history (the tool cannot know)" cer cert cross --token root-hsm --key root \
	--issuer-cert "$D/out/root.pem" --subject-cert "$D/out/foreign.pem" --profile "$D/profiles/root.yaml" --out "$D/out/cross-foreign.pem" \
	--transcript "$DR" --previous "$D/transcripts/0001-root.jsonl"
seal signing-1 "$D/out/signer-1.pem" "$DR"
out=$("$CEREMONY" audit --root "$D/out/root.pem" "$D/transcripts" 2>&1)
rc=$?
expect_eq "audit fails on a cross certificate for a root no ceremony made" 1 "$rc"
expect_contains "... naming why" "$out" "not a root this ceremony made"
# One rollover makes one new root: two new roots crossed in one ceremony are flagged.
E=$T/e
mkdir -p "$E/transcripts" "$E/out"
cp "$TR1" "$TR1.sig" "$E/transcripts/" && cp "$OLD" "$A/out/old-ica.pem" "$A/out/old-ica-chain.pem" "$S1" "$E/out/" && cp -r "$P" "$E/profiles" && cp -r "$A/csr" "$E/csr"
ER=$E/transcripts/0002-two.jsonl
for n in 4 5; do
	cer key generate --token root-hsm --label "root-$n" --type ec-p384 --transcript "$ER" $([ -e "$ER" ] || echo --previous "$E/transcripts/0001-root.jsonl") >/dev/null || fatal "key $n"
	cer cert root --token root-hsm --key "root-$n" --profile "$E/profiles/root.yaml" --subject "/C=DE/O=ACME Devices/CN=Root $n" \
		--out "$E/out/root-$n.pem" --transcript "$ER" >/dev/null || fatal "root $n"
	cer cert cross --token root-hsm --key root --issuer-cert "$E/out/root.pem" --subject-cert "$E/out/root-$n.pem" \
		--profile "$E/profiles/root.yaml" --out "$E/out/cross-$n.pem" --transcript "$ER" >/dev/null || fatal "cross $n"
done
seal signing-1 "$E/out/signer-1.pem" "$ER"
out=$("$CEREMONY" audit --root "$E/out/root.pem" "$E/transcripts" 2>&1)
rc=$?
expect_eq "audit fails on two new roots in one rollover" 1 "$rc"
expect_contains "... naming it" "$out" "a second new root cross-certified in one ceremony"
finish

#!/usr/bin/env bash
# The root certificate, checked by OpenSSL, GnuTLS certtool and NSS vfychain.
. "$(dirname "$0")/lib.sh"
setup_hsm
TR=$T/transcripts/root.jsonl
PROFILE=$PWD/ceremony-scripts/profiles/root.yaml
SUBJ="/C=DE/O=ACME Devices/CN=ACME Devices Root CA 2026"
new_token root-hsm

for type in ec-p384 ec-p256 rsa-3072; do
	cer key generate --token root-hsm --label "root-$type" --type "$type" --transcript "$TR" >/dev/null
	expect_ok "cert root $type" cer cert root --token root-hsm --key "root-$type" --profile "$PROFILE" \
		--subject "$SUBJ" --out "$T/out/root-$type.pem" --transcript "$TR"
	pem=$T/out/root-$type.pem
	check "$type: openssl verify -x509_strict" openssl verify -x509_strict -CAfile "$pem" "$pem"
	check "$type: certtool --verify" bash -c "certtool --verify --load-ca-certificate '$pem' --infile '$pem' 2>&1 | grep -q 'Chain verification output: Verified'"
	text=$(openssl x509 -in "$pem" -noout -text)
	check "$type: basicConstraints critical CA:TRUE, no pathlen" bash -c "printf '%s' \"\$1\" | grep -A1 'Basic Constraints: critical' | grep -qx ' *CA:TRUE'" _ "$text"
	check "$type: keyUsage critical keyCertSign cRLSign" bash -c "printf '%s' \"\$1\" | grep -A1 'Key Usage: critical' | grep -qx ' *Certificate Sign, CRL Sign'" _ "$text"
	check "$type: has an SKI" bash -c "printf '%s' \"\$1\" | grep -q 'Subject Key Identifier'" _ "$text"
	check "$type: no AKI, no policies, no EKU" bash -c "! printf '%s' \"\$1\" | grep -qE 'Authority Key Identifier|Certificate Policies|Extended Key Usage'" _ "$text"
	serial=$(openssl x509 -in "$pem" -noout -serial | cut -d= -f2)
	check "$type: serial has at least 64 bits and is positive" test "${#serial}" -ge 16 -a "$(printf '%s' "$serial" | cut -c1)" \< 8
done
text=$(openssl x509 -in "$T/out/root-ec-p384.pem" -noout -text)
check "P-384 is signed with ecdsa-with-SHA384" bash -c "printf '%s' \"\$1\" | grep -q 'Signature Algorithm: ecdsa-with-SHA384'" _ "$text"
text=$(openssl x509 -in "$T/out/root-ec-p256.pem" -noout -text)
check "P-256 is signed with ecdsa-with-SHA256" bash -c "printf '%s' \"\$1\" | grep -q 'Signature Algorithm: ecdsa-with-SHA256'" _ "$text"
text=$(openssl x509 -in "$T/out/root-rsa-3072.pem" -noout -text)
check "RSA is signed with sha256WithRSAEncryption" bash -c "printf '%s' \"\$1\" | grep -q 'Signature Algorithm: sha256WithRSAEncryption'" _ "$text"
# SKI is RFC 5280 method 1: SHA-1 of the subjectPublicKey bits.
ski=$(openssl x509 -in "$T/out/root-ec-p384.pem" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f)
bits=$(openssl x509 -in "$T/out/root-ec-p384.pem" -noout -pubkey | openssl pkey -pubin -outform DER | tail -c 97 | sha1sum | cut -c1-40)
check "SKI is the SHA-1 of the public key bits" test "$ski" = "$bits"
# NSS vfychain, a third verifier.
mkdir -p "$T/nss" && certutil -N -d "sql:$T/nss" --empty-password
certutil -A -d "sql:$T/nss" -n root -t "C,," -i "$T/out/root-ec-p384.pem"
check "vfychain accepts the root" bash -c "vfychain -d 'sql:$T/nss' -pp -u 11 -a '$T/out/root-ec-p384.pem' 2>&1 | grep -q 'Chain is good'"
check "cert.root recorded with the certificate's hash" bash -c "grep '\"action\":\"cert.root\"' '$TR' | grep -q \"\$(sha256sum '$T/out/root-ec-p384.pem' | cut -c1-64)\""

# A fixed notAfter of 99991231235959Z is GeneralizedTime.
sed 's/^  days: .*/  not_after: "99991231235959Z"/' "$PROFILE" >"$T/forever.yaml"
expect_ok "cert root with notAfter 99991231235959Z" cer cert root --token root-hsm --key root-ec-p384 \
	--profile "$T/forever.yaml" --subject "$SUBJ" --out "$T/out/forever.pem" --transcript "$TR"
check "notAfter is 9999-12-31 23:59:59" bash -c "openssl x509 -in '$T/out/forever.pem' -noout -enddate | grep -q 'Dec 31 23:59:59 9999 GMT'"
check "notAfter is encoded as GeneralizedTime" bash -c "openssl asn1parse -in '$T/out/forever.pem' | grep -q 'GENERALIZEDTIME.*99991231235959Z'"

# Refusals: each one line, nothing written.
before=$(wc -l <"$TR")
expect_fail "existing output file is not overwritten" 1 'already exists; refusing to overwrite' \
	cer cert root --token root-hsm --key root-ec-p384 --profile "$PROFILE" --subject "$SUBJ" --out "$T/out/root-ec-p384.pem" --transcript "$TR"
check "the existing root is unchanged" openssl verify -CAfile "$T/out/root-ec-p384.pem" "$T/out/root-ec-p384.pem"
printf 'name: root\nkind: root\nkey_types: [ec-p384]\nvalidity:\n  dayz: 10\n' >"$T/bad1.yaml"
expect_fail "profile with an unknown setting" 1 'validity.dayz: unknown setting' \
	cer cert root --token root-hsm --key root-ec-p384 --profile "$T/bad1.yaml" --subject "$SUBJ" --out "$T/out/x.pem" --transcript "$TR"
printf 'name: root\nkind: root\nkey_types: [ec-p384\n' >"$T/bad2.yaml"
expect_fail "profile that is not YAML" 1 'bad2.yaml: line' \
	cer cert root --token root-hsm --key root-ec-p384 --profile "$T/bad2.yaml" --subject "$SUBJ" --out "$T/out/x.pem" --transcript "$TR"
sed 's/  ca: true/  ca: false/' "$PROFILE" >"$T/bad3.yaml"
expect_fail "profile with keyCertSign but not a CA" 1 'keyCertSign needs basic_constraints.ca true' \
	cer cert root --token root-hsm --key root-ec-p384 --profile "$T/bad3.yaml" --subject "$SUBJ" --out "$T/out/x.pem" --transcript "$TR"
sed 's/^key_types: .*/key_types: [ec-p384]/' "$PROFILE" >"$T/p384only.yaml"
expect_fail "profile refuses the key type" 1 'does not allow rsa-3072 keys' \
	cer cert root --token root-hsm --key root-rsa-3072 --profile "$T/p384only.yaml" --subject "$SUBJ" --out "$T/out/x.pem" --transcript "$TR"
expect_fail "subject without a CN" 1 'a CN is required' \
	cer cert root --token root-hsm --key root-ec-p384 --profile "$PROFILE" --subject "/C=DE/O=ACME" --out "$T/out/x.pem" --transcript "$TR"
expect_fail "subject with a bad country" 1 'C must be two capital letters' \
	cer cert root --token root-hsm --key root-ec-p384 --profile "$PROFILE" --subject "/C=DEU/CN=X" --out "$T/out/x.pem" --transcript "$TR"
expect_fail "unknown key label" 1 'no private key labelled "nokey"' \
	cer cert root --token root-hsm --key nokey --profile "$PROFILE" --subject "$SUBJ" --out "$T/out/x.pem" --transcript "$TR"
expect_fail "wrong PIN" 1 'wrong PIN' \
	"$CEREMONY" --pin-source "file:$T/pins/wrong" cert root --token root-hsm --key root-ec-p384 --profile "$PROFILE" --subject "$SUBJ" --out "$T/out/x.pem" --transcript "$TR"
expect_fail "output folder missing" 1 'does not exist' \
	cer cert root --token root-hsm --key root-ec-p384 --profile "$PROFILE" --subject "$SUBJ" --out "$T/nowhere/x.pem" --transcript "$TR"
check "no output was written by any refusal" test ! -e "$T/out/x.pem"
check "no temporary files left behind" bash -c "! ls '$T/out' | grep -q tmp"
check "refusals added no transcript record" test "$(wc -l <"$TR")" -eq "$before"
# A kill between writing the certificate and recording it (the record cut off the
# transcript's end is that state): the rerun records what it finds, signs nothing.
expect_ok "cert root to int.pem" cer cert root --token root-hsm --key root-ec-p384 --profile "$PROFILE" \
	--subject "$SUBJ" --out "$T/out/int.pem" --transcript "$TR"
check "the last record is that cert.root" bash -c "tail -n1 '$TR' | grep -q '\"action\":\"cert.root\"'"
sed -i '$d' "$TR"
sum=$(sha256sum <"$T/out/int.pem")
serials=$(grep -c '"action":"cert.root"' "$TR")
out=$(cer cert root --token root-hsm --key root-ec-p384 --profile "$PROFILE" --subject "$SUBJ" \
	--out "$T/out/int.pem" --transcript "$TR" 2>&1) && pass "rerun records the certificate an interrupted run wrote" ||
	fail "rerun records the certificate an interrupted run wrote" "$out"
expect_contains "it says so" "$out" 'an interrupted run wrote it and did not record it; recorded now (nothing was signed)'
check "the certificate is the same bytes" test "$(sha256sum <"$T/out/int.pem")" = "$sum"
check "one cert.root record more, marked recorded_after_interruption, with the file's hash" bash -c \
	"test \$(grep -c '\"action\":\"cert.root\"' '$TR') -eq $((serials + 1)) && tail -n1 '$TR' | grep -q '\"recorded_after_interruption\":true' && tail -n1 '$TR' | grep -q \"\${1%% *}\"" _ "$sum"
check "the transcript's chain holds" "$CEREMONY" transcript verify --allow-unsealed --allow-unanchored "$TR"
before=$(wc -l <"$TR")
expect_fail "a rerun of a recorded root is refused" 1 'the history records it' \
	cer cert root --token root-hsm --key root-ec-p384 --profile "$PROFILE" --subject "$SUBJ" --out "$T/out/int.pem" --transcript "$TR"
cp "$T/out/root-ec-p256.pem" "$T/out/other.pem"
expect_fail "another key's root in the output's place is refused" 1 'is not the root certificate this command makes' \
	cer cert root --token root-hsm --key root-ec-p384 --profile "$PROFILE" --subject "$SUBJ" --out "$T/out/other.pem" --transcript "$TR"
check "it is left as it was" cmp "$T/out/root-ec-p256.pem" "$T/out/other.pem"
check "neither refusal added a record" test "$(wc -l <"$TR")" -eq "$before"
# The same for cert signer: the key stays, the certificate is recorded, nothing is made.
SIGNPROF=$PWD/ceremony-scripts/profiles/ceremony-signer.yaml
signer() { cer cert signer --token root-hsm --key root-ec-p384 --issuer "$T/out/root-ec-p384.pem" \
	--profile "$SIGNPROF" --label "$1" --out "$T/out/$2" --transcript "$TR"; }
expect_ok "cert signer" signer signing signer.pem
check "the last record is that cert.signer" bash -c "tail -n1 '$TR' | grep -q '\"action\":\"cert.signer\"'"
sed -i '$d' "$TR"
sum=$(sha256sum <"$T/out/signer.pem")
out=$(signer signing signer.pem 2>&1) && pass "cert signer rerun records what an interrupted run wrote" ||
	fail "cert signer rerun records what an interrupted run wrote" "$out"
expect_contains "it says nothing was generated" "$out" "recorded now (nothing was generated or signed)"
check "the certificate is the same bytes" test "$(sha256sum <"$T/out/signer.pem")" = "$sum"
check "its record is marked recorded_after_interruption" bash -c "tail -n1 '$TR' | grep -q '\"recorded_after_interruption\":true'"
check "one key labelled signing on the token" test "$(pkcs11-tool --module "$CEREMONY_MODULE" --token-label root-hsm \
	--login --pin "$(cat "$T/pins/user")" --list-objects --type privkey 2>/dev/null | grep -c 'label: *signing$')" -eq 1
before=$(wc -l <"$TR")
expect_fail "cert signer refuses a rerun of a recorded certificate" 1 "the history records it" signer signing signer.pem
cp "$T/out/signer.pem" "$T/out/signer2.pem"
expect_fail "cert signer refuses a certificate whose key is not on the token" 1 "the key it should certify is not on the token" \
	signer nokey signer2.pem
check "neither refusal added a record" test "$(wc -l <"$TR")" -eq "$before"
finish

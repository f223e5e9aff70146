#!/usr/bin/env bash
# Issuance from CSRs: intermediates and a MASA voucher signer, checked by OpenSSL,
# NSS vfychain and GnuTLS certtool with the policies enforced; CRLs; refusals.
. "$(dirname "$0")/lib.sh"
setup_hsm
P=$T/profiles
IDEVID_OID=1.3.6.1.4.1.32473.1.1
VOUCHER_OID=1.3.6.1.4.1.32473.1.2
M=$T/media
mkdir -p "$M/csr" "$M/out" "$M/keys"
TR0=$T/transcripts/0001-root.jsonl
make_root root-hsm root ec-p384 "$TR0" "$T/out/root.pem"
ROOT=$T/out/root.pem
TR=$T/transcripts/0002-sign.jsonl

csr() { # NAME SUBJECT KEYOPTS...
	local name=$1 subj=$2
	shift 2
	openssl req -new -nodes "$@" -keyout "$M/keys/$name.key" -subj "$subj" -out "$M/csr/$name.csr" 2>/dev/null
}
csr factory-1 "/C=DE/O=ACME Devices/CN=ACME Factory 1 IDevID CA" -newkey ec -pkeyopt ec_paramgen_curve:P-256
csr legacy-tpm "/C=DE/O=ACME Devices/CN=ACME Legacy TPM IDevID CA" -newkey rsa:3072
csr masa "/C=DE/O=ACME Devices/CN=ACME MASA voucher signer 1" -newkey ec -pkeyopt ec_paramgen_curve:P-256

sign() { # PROFILE NAME [extra args]
	local prof=$1 name=$2
	shift 2
	cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$P/$prof.yaml" \
		--csr "$M/csr/$name.csr" --out "$M/out/$name.pem" --transcript "$TR" --expect-file "$(pins_for "$M/csr/$name.csr")" "$@"
}
expect_ok "sign the P-256 intermediate" sign intermediate-ca factory-1
expect_ok "sign the RSA-3072 legacy intermediate" sign idevid-ca-rsa legacy-tpm
expect_ok "sign the MASA voucher signer" sign masa-voucher-signer masa
check "a chain file was written" test -s "$M/out/factory-1-chain.pem"
check "the chain is the certificate then the root" bash -c "[ \"\$(grep -c 'BEGIN CERT' '$M/out/factory-1-chain.pem')\" = 2 ] && tail -n +\$(( \$(wc -l <'$M/out/factory-1.pem') + 1 )) '$M/out/factory-1-chain.pem' | cmp -s - '$ROOT'"

# Three verifiers we did not write, with the policy enforced.
check "openssl: intermediate with its policy" openssl verify -x509_strict -policy "$IDEVID_OID" -explicit_policy -CAfile "$ROOT" "$M/out/factory-1.pem"
check "openssl: legacy intermediate with its policy" openssl verify -x509_strict -policy "$IDEVID_OID" -explicit_policy -CAfile "$ROOT" "$M/out/legacy-tpm.pem"
check "openssl: MASA with the voucher policy" openssl verify -x509_strict -policy "$VOUCHER_OID" -explicit_policy -CAfile "$ROOT" "$M/out/masa.pem"
check "openssl: MASA refused for the IDevID policy" bash -c "! openssl verify -x509_strict -policy '$IDEVID_OID' -explicit_policy -CAfile '$ROOT' '$M/out/masa.pem' >/dev/null 2>&1"
check "certtool: intermediate chain" bash -c "certtool --verify-chain --infile '$M/out/factory-1-chain.pem' 2>&1 | grep -q 'Chain verification output: Verified'"
check "certtool: MASA chain" bash -c "certtool --verify-chain --infile '$M/out/masa-chain.pem' 2>&1 | grep -q 'Chain verification output: Verified'"
mkdir -p "$T/nss" && certutil -N -d "sql:$T/nss" --empty-password
certutil -A -d "sql:$T/nss" -n root -t "C,C,C" -i "$ROOT"
check "vfychain: MASA with the voucher policy" bash -c "vfychain -d 'sql:$T/nss' -pp -u 4 -o '$VOUCHER_OID' -a '$M/out/masa.pem' 2>&1 | grep -q 'Chain is good'"
check "vfychain: MASA with a wrong policy is rejected" bash -c "! vfychain -d 'sql:$T/nss' -pp -u 4 -o '$IDEVID_OID' -a '$M/out/masa.pem' 2>&1 | grep -q 'Chain is good'"
check "vfychain: intermediate with its policy" bash -c "vfychain -d 'sql:$T/nss' -pp -u 11 -o '$IDEVID_OID' -a '$M/out/factory-1.pem' 2>&1 | grep -q 'Chain is good'"

# Profile contents, field by field.
txt=$(openssl x509 -in "$M/out/factory-1.pem" -noout -text)
check "intermediate: pathlen 0, critical" bash -c "printf '%s' \"\$1\" | grep -A1 'Basic Constraints: critical' | grep -q 'CA:TRUE, pathlen:0'" _ "$txt"
check "intermediate: notAfter 99991231235959Z" bash -c "openssl x509 -in '$M/out/factory-1.pem' -noout -enddate | grep -q 'Dec 31 23:59:59 9999 GMT'"
root_ski=$(openssl x509 -in "$ROOT" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' ')
check "intermediate: AKI is the root's SKI" bash -c "openssl x509 -in '$M/out/factory-1.pem' -noout -ext authorityKeyIdentifier | tail -1 | tr -d ' ' | grep -q '$root_ski'"
txt=$(openssl x509 -in "$M/out/masa.pem" -noout -text)
check "MASA: CA:FALSE, critical" bash -c "printf '%s' \"\$1\" | grep -A1 'Basic Constraints: critical' | grep -q 'CA:FALSE'" _ "$txt"
check "MASA: keyUsage critical digitalSignature only" bash -c "printf '%s' \"\$1\" | grep -A1 'Key Usage: critical' | grep -qx ' *Digital Signature'" _ "$txt"
check "MASA: no EKU" bash -c "! printf '%s' \"\$1\" | grep -q 'Extended Key Usage'" _ "$txt"
check "MASA: finite validity (2 years)" bash -c "openssl x509 -in '$M/out/masa.pem' -noout -checkend $((729*86400)) && ! openssl x509 -in '$M/out/masa.pem' -noout -checkend $((731*86400))"

# An IDevID made by the test under the intermediate verifies through it; pathLen 0 holds.
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$M/keys/dev.key" -subj "/serialNumber=00-D0-E5-F2-00-02" -out "$T/dev.csr" 2>/dev/null
printf 'basicConstraints=CA:FALSE\ncertificatePolicies=%s\nauthorityKeyIdentifier=keyid\nkeyUsage=critical,digitalSignature\n' "$IDEVID_OID" >"$T/dev.ext"
openssl x509 -req -in "$T/dev.csr" -CA "$M/out/factory-1.pem" -CAkey "$M/keys/factory-1.key" -set_serial 0x0102030405060708 -days 30 -extfile "$T/dev.ext" -out "$T/idevid.pem" 2>/dev/null
check "IDevID verifies to the root through the intermediate" openssl verify -x509_strict -policy "$IDEVID_OID" -explicit_policy -CAfile "$ROOT" -untrusted "$M/out/factory-1.pem" "$T/idevid.pem"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\ncertificatePolicies=%s\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' "$IDEVID_OID" >"$T/sub.ext"
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/sub.key" -subj "/CN=rogue sub-CA" -out "$T/sub.csr" 2>/dev/null
openssl x509 -req -in "$T/sub.csr" -CA "$M/out/factory-1.pem" -CAkey "$M/keys/factory-1.key" -set_serial 0x0a0b0c0d0e0f1011 -days 30 -extfile "$T/sub.ext" -out "$T/sub.pem" 2>/dev/null
openssl x509 -req -in "$T/dev.csr" -CA "$T/sub.pem" -CAkey "$T/sub.key" -set_serial 0x1112131415161718 -days 30 -extfile "$T/dev.ext" -out "$T/under-sub.pem" 2>/dev/null
check "pathLen 0: a device under a sub-CA of the intermediate fails" bash -c "! openssl verify -CAfile '$ROOT' -untrusted '$M/out/factory-1.pem' -untrusted '$T/sub.pem' '$T/under-sub.pem' >/dev/null 2>&1"

# The voucher check (RFC 8366 CMS, id-ct-animaJSONVoucher).
printf '{"ietf-voucher:voucher":{"serial-number":"00-D0-E5-F2-00-02","assertion":"logged"}}' >"$T/voucher.json"
openssl cms -sign -binary -nodetach -econtent_type 1.2.840.113549.1.9.16.1.40 -in "$T/voucher.json" -signer "$M/out/masa.pem" -inkey "$M/keys/masa.key" -outform DER -out "$T/voucher-masa.cms"
openssl cms -sign -binary -nodetach -econtent_type 1.2.840.113549.1.9.16.1.40 -in "$T/voucher.json" -signer "$T/idevid.pem" -inkey "$M/keys/dev.key" -certfile "$M/out/factory-1.pem" -outform DER -out "$T/voucher-idevid.cms"
check "voucher signed by the MASA passes the voucher policy" openssl cms -verify -binary -inform DER -in "$T/voucher-masa.cms" -CAfile "$ROOT" -policy "$VOUCHER_OID" -explicit_policy -purpose any -out /dev/null
check "voucher signed by an IDevID key fails the voucher policy" bash -c "! openssl cms -verify -binary -inform DER -in '$T/voucher-idevid.cms' -CAfile '$ROOT' -policy '$VOUCHER_OID' -explicit_policy -purpose any -out /dev/null 2>/dev/null"
check "... though it passes without the policy check (why the OID matters)" openssl cms -verify -binary -inform DER -in "$T/voucher-idevid.cms" -CAfile "$ROOT" -purpose any -out /dev/null

# Optional profile extensions: CRL distribution point, AIA, name constraints; a SAN copied on request.
sed -e 's/^name: intermediate-ca/name: ica-urls/' "$P/intermediate-ca.yaml" >"$T/ica-urls.yaml"
cat >>"$T/ica-urls.yaml" <<'YAML'
crl_distribution_points: [http://pki.example.com/root.crl]
authority_info_access:
  ca_issuers: [http://pki.example.com/root.cer]
name_constraints:
  permitted: [DNS:devices.example.com]
YAML
csr urls "/C=DE/O=ACME Devices/CN=ACME Factory 2 CA" -newkey ec -pkeyopt ec_paramgen_curve:P-256
expect_ok "sign with CRLDP, AIA and name constraints" cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$T/ica-urls.yaml" --csr "$M/csr/urls.csr" --out "$M/out/urls.pem" --transcript "$TR" --expect-file "$(pins_for "$M/csr/urls.csr")"
txt=$(openssl x509 -in "$M/out/urls.pem" -noout -text)
check "CRL distribution point present" bash -c "printf '%s' \"\$1\" | grep -q 'URI:http://pki.example.com/root.crl'" _ "$txt"
check "AIA caIssuers present" bash -c "printf '%s' \"\$1\" | grep -q 'CA Issuers - URI:http://pki.example.com/root.cer'" _ "$txt"
check "name constraints critical" bash -c "printf '%s' \"\$1\" | grep -A2 'Name Constraints: critical' | grep -q 'DNS:devices.example.com'" _ "$txt"
check "openssl accepts it" openssl verify -x509_strict -CAfile "$ROOT" "$M/out/urls.pem"
sed -e 's/^name: masa-voucher-signer/name: masa-san/' "$P/masa-voucher-signer.yaml" >"$T/masa-san.yaml"
echo "subject_alt_name_from_csr: true" >>"$T/masa-san.yaml"
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/san.key" -subj "/CN=masa 3" -addext "subjectAltName=DNS:masa.example.com" -out "$M/csr/san.csr" 2>/dev/null
expect_fail "a SAN is refused when the profile does not take it" 1 'profile-san' \
	cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$P/masa-voucher-signer.yaml" --csr "$M/csr/san.csr" --out "$M/out/san.pem" --transcript "$TR"
expect_ok "a SAN is copied when the profile takes it" cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$T/masa-san.yaml" --csr "$M/csr/san.csr" --out "$M/out/san.pem" --transcript "$TR"
check "the SAN is in the certificate" bash -c "openssl x509 -in '$M/out/san.pem' -noout -ext subjectAltName | grep -q 'DNS:masa.example.com'"

# Transcript records.
check "five cert.issue records" test "$(grep -c '"action":"cert.issue"' "$TR")" -eq 5
check "record carries the CSR's and certificate's SHA-256" bash -c "grep '\"action\":\"cert.issue\"' '$TR' | head -1 | grep -q \"\$(sha256sum '$M/csr/factory-1.csr' | cut -c1-64)\" && grep -q \"\$(sha256sum '$M/out/factory-1.pem' | cut -c1-64)\" '$TR'"

# Refusals: clear, recorded, nothing written.
before=$(grep -c . "$TR")
cp "$M/csr/masa.csr" "$M/csr/again.csr"
expect_fail "the same key is not certified twice" 1 'already certified|key-reuse|known' \
	cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$P/masa-voucher-signer.yaml" --csr "$M/csr/again.csr" --out "$M/out/again.pem" --transcript "$TR"
check "nothing was written for it" test ! -e "$M/out/again.pem"
printf 'basicConstraints=critical,CA:TRUE\n' >"$T/ca.ext"
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/x.key" -subj "/CN=sneaky" -addext "basicConstraints=critical,CA:TRUE" -out "$M/csr/sneaky.csr" 2>/dev/null
expect_fail "CA:TRUE requested on the end-entity profile is refused" 1 'refused' \
	cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$P/masa-voucher-signer.yaml" --csr "$M/csr/sneaky.csr" --out "$M/out/sneaky.pem" --transcript "$TR"
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/y.key" -subj "/CN=masa 2/serialNumber=1234" -out "$M/csr/serial.csr" 2>/dev/null
expect_fail "serialNumber in a MASA subject is refused" 1 'serialNumber' \
	cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$P/masa-voucher-signer.yaml" --csr "$M/csr/serial.csr" --out "$M/out/serial.pem" --transcript "$TR"
sum_before=$(sha256sum <"$M/out/factory-1.pem")
out=$(sign intermediate-ca factory-1 2>&1)
check "the same request again is a rerun: skipped, not signed twice" bash -c "printf '%s' \"\$1\" | grep -q 'already issued by an earlier call, skipped' && printf '%s' \"\$1\" | grep -q '^0 certificates issued'" _ "$out"
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/other.key" -subj "/C=DE/O=ACME Devices/CN=Other CA" -out "$T/other.csr" 2>/dev/null
expect_fail "another request onto an existing output is refused" 1 'already exists and is not this request' \
	cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$P/intermediate-ca.yaml" --csr "$T/other.csr" --out "$M/out/factory-1.pem" --transcript "$TR" --expect-file "$(pins_for "$T/other.csr")"
expect_fail "a root profile is not for cert sign" 2 'root profile' \
	cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$P/root.yaml" --csr "$M/csr/sneaky.csr" --out "$M/out/z.pem" --transcript "$TR"
expect_fail "a bad --policy is a usage error" 2 'not a dotted OID' \
	sign masa-voucher-signer sneaky --policy not-an-oid
check "no output for any refusal" bash -c "! ls '$M/out' | grep -qE 'again|sneaky|serial|z.pem'"
check "each refused request is recorded" test "$(grep -c '"action":"cert.refused"' "$TR")" -ge 3
check "the existing certificate is unchanged" test "$(sha256sum <"$M/out/factory-1.pem")" = "$sum_before"

# CA names are unique (issue 10.2): never the issuer's, another CA's subject or CN.
TRN=$T/transcripts/0002b-names.jsonl
csr rootdn "/C=DE/O=ACME Devices/CN=ACME Devices Root CA" -newkey ec -pkeyopt ec_paramgen_curve:P-256
csr samecn "/C=DE/O=Other Devices/CN=ACME Factory 1 IDevID CA" -newkey ec -pkeyopt ec_paramgen_curve:P-256
csr samedn "/C=DE/O=ACME Devices/CN=ACME Factory 1 IDevID CA" -newkey ec -pkeyopt ec_paramgen_curve:P-256
csr rootcn "/C=US/O=Elsewhere/CN=acme devices ROOT ca" -newkey ec -pkeyopt ec_paramgen_curve:P-256
name_refused() { # NAME CSR PATTERN
	expect_fail "$1" 1 "$3" cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$P/intermediate-ca.yaml" \
		--csr "$M/csr/$2.csr" --out "$M/out/$2.pem" --transcript "$TRN" --expect-file "$(pins_for "$M/csr/$2.csr")"
	check "... nothing written for $2" test ! -e "$M/out/$2.pem"
}
name_refused "a CA named like the root (self-issued) is refused" rootdn "lint cert-ca-name-unique: a CA's subject is its issuer's"
name_refused "a CA with another CA's subject is refused" samedn "lint cert-ca-name-unique: the subject is that of a CA already in the history"
name_refused "a CA with another CA's CN (other O) is refused" samecn "lint cert-ca-name-unique: the CN is that of a CA already in the history"
name_refused "a CA whose CN is the root's but for case and spaces is refused" rootcn "lint cert-ca-name-unique: a CA's CN is its issuer's"
mkdir -p "$M/twins" "$M/twins-out"
for i in 1 2; do openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/tw$i.key" -subj "/C=DE/O=ACME Devices $i/CN=Twin CA" -out "$M/twins/t$i.csr" 2>/dev/null; done
expect_fail "two CAs with one CN in a batch: none is signed" 1 'cert-ca-name-unique: the CN is that of another CA of this batch' \
	cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$P/intermediate-ca.yaml" --csr-dir "$M/twins" --out-dir "$M/twins-out" --transcript "$TRN" --expect-file "$(pins_for "$M/twins")"
check "... nothing written by the batch" test -z "$(ls "$M/twins-out")"

# Policy discipline (issue 10.3).
csr polx "/C=DE/O=ACME Devices/CN=ACME Policy Test CA" -newkey ec -pkeyopt ec_paramgen_curve:P-256
pol_sign() { cer cert sign --token root-hsm --key root --issuer "$ROOT" --csr "$M/csr/polx.csr" --out "$M/out/polx.pem" --transcript "$TRN" --expect-file "$(pins_for "$M/csr/polx.csr")" "$@"; }
expect_fail "--policy anyPolicy on intermediate-ca is refused" 1 'anyPolicy.*does not name it in allowed_policies' \
	pol_sign --profile "$P/intermediate-ca.yaml" --policy 2.5.29.32.0
expect_fail "--policy with the voucher OID on intermediate-ca is refused" 1 "$VOUCHER_OID is a voucher-authorization OID" \
	pol_sign --profile "$P/intermediate-ca.yaml" --policy "$VOUCHER_OID"
expect_fail "--policy with the voucher OID on idevid-ca-rsa is refused" 1 "$VOUCHER_OID is a voucher-authorization OID" \
	pol_sign --profile "$P/idevid-ca-rsa.yaml" --policy "$VOUCHER_OID"
expect_fail "--policy with an OID the profile does not list is refused" 1 'not one the intermediate-ca profile allows' \
	pol_sign --profile "$P/intermediate-ca.yaml" --policy 1.3.6.1.4.1.32473.1.9
check "... nothing written, nothing recorded" bash -c "test ! -e '$M/out/polx.pem' && ! grep -q 'Policy Test' '$TRN'"
sed -e 's/^certificate_policies: \[1.3.6.1.4.1.32473.1.1\]/certificate_policies: [1.3.6.1.4.1.32473.1.1, 1.3.6.1.4.1.32473.1.2]/' "$P/intermediate-ca.yaml" >"$T/ica-voucher.yaml"
expect_fail "a CA profile carrying the voucher OID does not load" 1 "1.3.6.1.4.1.32473.1.2 is a voucher-authorization OID: only a profile with voucher_signer: true" \
	pol_sign --profile "$T/ica-voucher.yaml"
sed -e 's/^allowed_policies: \[\]/allowed_policies: [1.3.6.1.4.1.32473.1.9, 2.5.29.32.0]/' "$P/intermediate-ca.yaml" >"$T/ica-allowed.yaml"
expect_ok "--policy picks an OID the profile allows" pol_sign --profile "$T/ica-allowed.yaml" --policy 1.3.6.1.4.1.32473.1.9
check "openssl: the allowed policy holds on the chain" openssl verify -x509_strict -policy 1.3.6.1.4.1.32473.1.9 -explicit_policy -CAfile "$ROOT" "$M/out/polx.pem"
check "the record names the --policy" bash -c "tail -1 '$TRN' | grep -q '\"extra_policies\":\[\"1.3.6.1.4.1.32473.1.9\"\]'"
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/q.key" -subj "/C=DE/O=ACME Devices/CN=ACME MASA qualifiers" \
	-addext "certificatePolicies=@pol" -config <(printf '[req]\ndistinguished_name=dn\n[dn]\n[pol]\npolicyIdentifier=%s\nCPS.1=http://cps.example.com\n' "$VOUCHER_OID") -out "$M/csr/qual.csr" 2>/dev/null
check "the qualifier request really carries a CPS URI" bash -c "openssl req -in '$M/csr/qual.csr' -noout -text | grep -q 'CPS: http://cps.example.com'"
expect_fail "requested policy qualifiers are refused, not dropped" 1 'profile-policies' \
	cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$P/masa-voucher-signer.yaml" --csr "$M/csr/qual.csr" --out "$M/out/qual.pem" --transcript "$TRN"
check "csr show names the qualifiers" bash -c "'$CEREMONY' csr show '$M/csr/qual.csr' --profile '$P/masa-voucher-signer.yaml' | grep -q 'profile-policies: .*qualifiers'"

# Subjects are recorded unambiguously (issue 10.7): RFC 4514 text and DER.
csr lit "/C=DE/O=ACME Devices/CN=ACME MASA \\\\xC3\\\\x84" -newkey ec -pkeyopt ec_paramgen_curve:P-256
csr uml "/C=DE/O=ACME Devices/CN=ACME MASA Ä" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -utf8
for n in lit uml; do
	expect_ok "sign the MASA named $n" cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$P/masa-voucher-signer.yaml" --csr "$M/csr/$n.csr" --out "$M/out/$n.pem" --transcript "$TRN"
done
subj_of() { grep '"action":"cert.issue"' "$TRN" | jq -r "select(.outputs[0].path | endswith(\"/$1.pem\")) | .details.certificate.$2"; }
check "the two subjects' texts differ" test "$(subj_of lit subject)" != "$(subj_of uml subject)"
check "the two subjects' DER differ" test "$(subj_of lit subject_der)" != "$(subj_of uml subject_der)"
der_of() { /usr/bin/python3 -c 'import sys; from cryptography import x509; print(x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read()).subject.public_bytes().hex())' "$1"; }
check "the recorded subject_der is the certificate's subject DER (pyca)" test "$(subj_of uml subject_der)" = "$(der_of "$M/out/uml.pem")"
check "... for the literal one too" test "$(subj_of lit subject_der)" = "$(der_of "$M/out/lit.pem")"
want_uml='CN=ACME MASA Ä,O=ACME Devices,C=DE'
want_lit='CN=ACME MASA \\xC3\\x84,O=ACME Devices,C=DE'
check "the text holds the letter, not a byte escape" test "$(subj_of uml subject)" = "$want_uml"
check "the literal backslashes stay visible, escaped as RFC 4514 says" test "$(subj_of lit subject)" = "$want_lit"

# Validity nesting (issue 10.4): the root outlives what it signs.
check "the root never expires (99991231235959Z)" bash -c "openssl x509 -in '$ROOT' -noout -enddate | grep -q 'Dec 31 23:59:59 9999 GMT'"
PY=/usr/bin/python3 # Debian's python3-cryptography (make deps)
# An IDevID as IEEE 802.1AR makes them (notAfter 99991231235959Z), by pyca cryptography.
$PY - "$M/out/factory-1.pem" "$M/keys/factory-1.key" "$M/keys/dev.key" "$T/idevid-9999.pem" "$IDEVID_OID" <<'PY'
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
ca = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
ca_key = serialization.load_pem_private_key(open(sys.argv[2], "rb").read(), None)
dev = serialization.load_pem_private_key(open(sys.argv[3], "rb").read(), None)
ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
cert = (x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, "00-D0-E5-F2-00-03")]))
        .issuer_name(ca.subject).public_key(dev.public_key()).serial_number(0x0102030405060709)
        .not_valid_before(datetime.datetime(2026, 1, 1))
        .not_valid_after(datetime.datetime(9999, 12, 31, 23, 59, 59))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(sys.argv[5]), None)]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(ca_key, hashes.SHA256()))
open(sys.argv[4], "wb").write(cert.public_bytes(serialization.Encoding.PEM))
PY
# 2587679999 is 2051-12-31T23:59:59Z: after a 25-year root made in 2026 would have ended.
for when in 2587679999 2840140800 4102444800; do
	check "openssl: the IDevID chain verifies at $(date -u -d "@$when" +%Y-%m-%d), strict, with explicit policy" \
		openssl verify -x509_strict -attime "$when" -policy "$IDEVID_OID" -explicit_policy -CAfile "$ROOT" -untrusted "$M/out/factory-1.pem" "$T/idevid-9999.pem"
done
cat "$T/idevid-9999.pem" "$M/out/factory-1.pem" "$ROOT" >"$T/idevid-9999-chain.pem"
check "certtool: the IDevID chain under the never-expiring root" bash -c "certtool --verify-chain --infile '$T/idevid-9999-chain.pem' 2>&1 | grep -q 'Chain verification output: Verified'"
certutil -A -d "sql:$T/nss" -n factory-1 -t ",," -i "$M/out/factory-1.pem"
# (vfychain -b takes UTCTime only, which cannot name a year after 2049: it checks now.)
check "vfychain: the never-expiring IDevID chain with the IDevID policy" bash -c "vfychain -d 'sql:$T/nss' -pp -o '$IDEVID_OID' -u 1 -a '$T/idevid-9999.pem' 2>&1 | grep -q 'Chain is good'"
$PY - "$ROOT" "$M/out/factory-1.pem" "$M/out/legacy-tpm.pem" "$M/out/masa.pem" "$T/idevid-9999.pem" <<'PY' && pass "pyca cryptography: each certificate's notAfter nests in its issuer's, signatures verify" || fail "pyca cryptography: each certificate's notAfter nests in its issuer's, signatures verify"
import sys
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, padding
load = lambda p: x509.load_pem_x509_certificate(open(p, "rb").read())
root, ica = load(sys.argv[1]), load(sys.argv[2])
def check(child, issuer):
    assert child.not_valid_after <= issuer.not_valid_after, child.subject
    key = issuer.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(child.signature, child.tbs_certificate_bytes, ec.ECDSA(child.signature_hash_algorithm))
    else:
        key.verify(child.signature, child.tbs_certificate_bytes, padding.PKCS1v15(), child.signature_hash_algorithm)
for p in sys.argv[2:5]:
    check(load(p), root)
check(load(sys.argv[5]), ica)
assert root.not_valid_after.year == 9999
PY
sed -e 's/^  not_after: "99991231235959Z"/  days: 3650/' "$P/root.yaml" >"$T/root-10y.yaml"
TRS=$T/short/transcripts/0001-root.jsonl
mkdir -p "$T/short/transcripts" "$T/short/out"
new_token short-hsm "$TRS"
cer key generate --token short-hsm --label root --type ec-p384 --transcript "$TRS" >/dev/null
cer cert root --token short-hsm --key root --profile "$T/root-10y.yaml" --subject "/C=DE/O=Short/CN=Short Root" --out "$T/short/out/root.pem" --transcript "$TRS" >/dev/null
csr short "/C=DE/O=Short/CN=Short IDevID CA" -newkey ec -pkeyopt ec_paramgen_curve:P-256
short_sign() { cer cert sign --token short-hsm --key root --issuer "$T/short/out/root.pem" --csr "$M/csr/short.csr" --out "$T/short/out/ica.pem" --transcript "$T/short/transcripts/0002-sign.jsonl" --expect-file "$(pins_for "$M/csr/short.csr")" "$@"; }
expect_fail "a CA outliving its 10-year root is refused" 1 'lint cert-validity-nesting: notAfter is later than the issuer' \
	short_sign --profile "$P/intermediate-ca.yaml"
check "... nothing written" test ! -e "$T/short/out/ica.pem"
sed -e 's/^  not_after: "99991231235959Z"/  not_after: "99991231235959Z"\n  beyond_issuer: true/' "$P/intermediate-ca.yaml" >"$T/ica-beyond.yaml"
expect_ok "... unless the profile says validity.beyond_issuer" short_sign --profile "$T/ica-beyond.yaml"
check "... and the record says it outlives its issuer" bash -c "tail -1 '$T/short/transcripts/0002-sign.jsonl' | grep -q '\"beyond_issuer\":true'"
check "a normal issuance records beyond_issuer false" bash -c "grep '\"action\":\"cert.issue\"' '$TR' | head -1 | grep -q '\"beyond_issuer\":false'"

# A batch in one login; a second ceremony sees the first's serials and keys.
mkdir -p "$M/batch" "$M/batch-out"
for i in 1 2 3; do openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/b$i.key" -subj "/C=DE/O=ACME Devices/CN=Factory 1$i CA" -out "$M/batch/f$i.csr" 2>/dev/null; done
TR3=$T/transcripts/0003-batch.jsonl
expect_ok "batch signing" cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$P/intermediate-ca.yaml" --csr-dir "$M/batch" --out-dir "$M/batch-out" --transcript "$TR3" --expect-file "$(pins_for "$M/batch")"
check "three certificates from the batch" test "$(ls "$M/batch-out"/*-chain.pem | wc -l)" -eq 3
serials=$(cat "$M"/out/*.pem "$M"/batch-out/f?.pem | grep -c BEGIN)
uniq=$(for f in "$M"/out/factory-1.pem "$M"/out/legacy-tpm.pem "$M"/out/masa.pem "$M"/batch-out/f?.pem "$ROOT"; do openssl x509 -in "$f" -noout -serial; done | sort -u | wc -l)
check "serials are unique across ceremonies" test "$uniq" -eq 7
cp "$M/csr/factory-1.csr" "$M/batch/zz-reused.csr"
rm -rf "$M/batch-out2"; mkdir -p "$M/batch-out2"
expect_fail "a batch with one bad request signs nothing" 1 'of 4 requests refused' \
	cer cert sign --token root-hsm --key root --issuer "$ROOT" --profile "$P/intermediate-ca.yaml" --csr-dir "$M/batch" --out-dir "$M/batch-out2" --transcript "$T/transcripts/0004-batch.jsonl" --expect-file "$(pins_for "$M/batch")"
check "nothing written by the refused batch" test -z "$(ls "$M/batch-out2")"

# CRLs: numbers increase over the CA's life; openssl accepts them.
TR5=$T/transcripts/0005-crl.jsonl
legacy_serial=$(openssl x509 -in "$M/out/legacy-tpm.pem" -noout -serial | cut -d= -f2)
expect_ok "an empty CRL" cer crl sign --token root-hsm --key root --issuer "$ROOT" --next-update 30 --out "$T/out/crl1.pem" --transcript "$TR5"
expect_ok "a CRL revoking the legacy intermediate" cer crl sign --token root-hsm --key root --issuer "$ROOT" --revoke "$legacy_serial" --reason superseded --next-update 30 --out "$T/out/crl2.pem" --transcript "$TR5"
check "openssl crl -verify accepts it" bash -c "openssl crl -in '$T/out/crl2.pem' -CAfile '$ROOT' -verify -noout 2>&1 | grep -q 'verify OK'"
check "CRL numbers increase" bash -c "[ \"\$(openssl crl -in '$T/out/crl1.pem' -noout -crlnumber)\" = 'crlNumber=0x01' ] && [ \"\$(openssl crl -in '$T/out/crl2.pem' -noout -crlnumber)\" = 'crlNumber=0x02' ]"
crltxt=$(openssl crl -in "$T/out/crl2.pem" -noout -text)
check "CRL v2 with AKI, the serial and reason superseded" bash -c "printf '%s' \"\$1\" | grep -q 'Version 2' && printf '%s' \"\$1\" | grep -q 'Authority Key Identifier' && printf '%s' \"\$1\" | grep -q '$legacy_serial' && printf '%s' \"\$1\" | grep -q 'Superseded'" _ "$crltxt"
check "the revoked intermediate fails with the CRL" bash -c "! openssl verify -crl_check -CRLfile '$T/out/crl2.pem' -CAfile '$ROOT' '$M/out/legacy-tpm.pem' >/dev/null 2>&1"
check "a live intermediate passes with the CRL" openssl verify -crl_check -CRLfile "$T/out/crl2.pem" -CAfile "$ROOT" "$M/out/factory-1.pem"
expect_ok "a later CRL keeps the revocation" cer crl sign --token root-hsm --key root --issuer "$ROOT" --next-update 30 --out "$T/out/crl3.pem" --transcript "$T/transcripts/0006-crl.jsonl"
check "... with number 3 and the serial still listed" bash -c "openssl crl -in '$T/out/crl3.pem' -noout -crlnumber | grep -q 0x03 && openssl crl -in '$T/out/crl3.pem' -noout -text | grep -q '$legacy_serial'"
expect_fail "nextUpdate beyond 12 months is refused" 2 'at most 12 months' \
	cer crl sign --token root-hsm --key root --issuer "$ROOT" --next-update 400 --out "$T/out/crl4.pem" --transcript "$TR5"
expect_fail "revoking twice is refused" 1 'already revoked' \
	cer crl sign --token root-hsm --key root --issuer "$ROOT" --revoke "$legacy_serial" --reason superseded --next-update 30 --out "$T/out/crl4.pem" --transcript "$TR5"
check "no CRL written by a refusal" test ! -e "$T/out/crl4.pem"
# Each revocation its own reason (issue 10.1); CA entries need a CA's reason; only issued serials.
f1_serial=$(openssl x509 -in "$M/batch-out/f1.pem" -noout -serial | cut -d= -f2)
f2_serial=$(openssl x509 -in "$M/batch-out/f2.pem" -noout -serial | cut -d= -f2)
masa_serial=$(openssl x509 -in "$M/out/masa.pem" -noout -serial | cut -d= -f2)
crl() { cer crl sign --token root-hsm --key root --issuer "$ROOT" --next-update 30 --out "$T/out/crl5.pem" --transcript "$TR5" "$@"; }
crl_refused() { # NAME CODE PATTERN ARGS...: refused, and no CRL, no record
	local name=$1 code=$2 pat=$3 before
	shift 3
	before=$(wc -l <"$TR5")
	expect_fail "$name" "$code" "$pat" crl "$@"
	check "... no CRL and no record for it" bash -c "test ! -e '$T/out/crl5.pem' && test \"\$(wc -l <'$TR5')\" = '$before'"
}
crl_refused "a --revoke without its own --reason is a usage error" 2 "--revoke $f1_serial needs its own --reason" \
	--revoke "$f1_serial" --revoke "$f2_serial" --reason superseded
crl_refused "a --reason before any --revoke is a usage error" 2 'each --reason follows its own --revoke' \
	--reason superseded --revoke "$f1_serial"
crl_refused "serial 0 is refused" 2 'is zero' --revoke 00 --reason superseded
crl_refused "a negative serial is refused" 2 'is negative' --revoke -5 --reason superseded
crl_refused "a serial the CA never issued is refused" 1 'never issued by this CA.*--allow-unknown-serial' \
	--revoke 0DEC0DE0DEC0DE01 --reason keyCompromise
crl_refused "a CA certificate's entry cannot be unspecified" 1 'CA certificate needs a stated reason' \
	--revoke "$f1_serial" --reason unspecified
crl_refused "privilegeWithdrawn is not a CA's reason" 1 'privilegeWithdrawn is a subscriber' \
	--revoke "$f1_serial" --reason privilegeWithdrawn
crl_refused "cACompromise is not an end entity's reason" 1 'cACompromise is for CAs' \
	--revoke "$masa_serial" --reason cACompromise
crl_refused "the same serial twice is refused" 2 'given twice' \
	--revoke "$f1_serial" --reason superseded --revoke "$(printf '%s' "$f1_serial" | tr 'A-F' 'a-f')" --reason keyCompromise
expect_ok "three revocations, three reasons, one unknown serial allowed" crl \
	--revoke "$f1_serial" --reason keyCompromise --revoke "$f2_serial" --reason cACompromise \
	--revoke "$masa_serial" --reason superseded --revoke 0DEC0DE0DEC0DE02 --reason affiliationChanged --allow-unknown-serial
crl5=$(openssl crl -in "$T/out/crl5.pem" -noout -text)
reason_of() { printf '%s\n' "$crl5" | grep -A4 "Serial Number: $1" | grep -A1 'CRL Reason Code' | tail -1 | tr -d ' '; }
check "openssl: f1 keyCompromise" test "$(reason_of "$f1_serial")" = KeyCompromise
check "openssl: f2 cACompromise" test "$(reason_of "$f2_serial")" = CACompromise
check "openssl: MASA superseded" test "$(reason_of "$masa_serial")" = Superseded
check "openssl: the unknown serial affiliationChanged" test "$(reason_of 0DEC0DE0DEC0DE02)" = AffiliationChanged
check "openssl: the earlier revocation keeps its reason" test "$(reason_of "$legacy_serial")" = Superseded
rec=$(tail -n 1 "$TR5")
check "the record has each entry's own reason, RFC 3339 times, known and ca flags" python3 -c '
import json, sys
d = json.loads(sys.argv[1])["details"]
e = {x["serial"]: x for x in d["revoked"]}
f1, f2, masa = sys.argv[2:5]
assert e[f1]["reason"] == "keyCompromise" and e[f1]["ca"] is True and e[f1]["known"] is True
assert e[f2]["reason"] == "cACompromise" and e[masa]["reason"] == "superseded" and e[masa]["ca"] is False
assert e["0DEC0DE0DEC0DE02"]["known"] is False and d["allow_unknown_serial"] is True
import re
assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", x["time"]) for x in d["revoked"])
' "$rec" "$f1_serial" "$f2_serial" "$masa_serial"
check "pyca cryptography reads the same reasons" python3 -c '
import sys
from cryptography import x509
crl = x509.load_pem_x509_crl(open(sys.argv[1], "rb").read())
want = {int(sys.argv[2], 16): x509.ReasonFlags.key_compromise, int(sys.argv[3], 16): x509.ReasonFlags.ca_compromise, int(sys.argv[4], 16): x509.ReasonFlags.superseded}
for serial, reason in want.items():
    r = crl.get_revoked_certificate_by_serial_number(serial)
    assert r.extensions.get_extension_for_class(x509.CRLReason).value.reason == reason, serial
' "$T/out/crl5.pem" "$f1_serial" "$f2_serial" "$masa_serial"
check "transcript verify replays the CRL's entries and reasons" bash -c "'$CEREMONY' transcript verify --allow-unsealed --root '$ROOT' '$TR5' | grep -q 'entries and reasons ok'"
# A transcript that records another reason than the CRL carries (chain re-hashed) fails.
python3 - "$TR5" "$TR5.tampered" "$f1_serial" <<'PY'
import hashlib, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
last = lines[-1]
lines[-1] = last.replace(b'"serial":"' + sys.argv[3].encode() + b'","reason":"keyCompromise"',
                         b'"serial":"' + sys.argv[3].encode() + b'","reason":"superseded"')
assert lines[-1] != last
open(sys.argv[2], "wb").write(b"\n".join(lines) + b"\n")
PY
expect_fail "a recorded reason the CRL does not carry is caught" 1 "serial $f1_serial is not in the CRL with the recorded reason superseded" \
	"$CEREMONY" transcript verify --allow-unsealed --root "$ROOT" "$TR5.tampered"

# Replay: transcript verify re-checks every issued certificate offline.
out=$("$CEREMONY" transcript verify --allow-unsealed --root "$ROOT" "$TR" 2>&1)
check "replay re-checks the five certificates" bash -c "printf '%s' \"\$1\" | grep -q 'Replayed: 5 certificates'" _ "$out"
check "replay checks the CRLs" bash -c "'$CEREMONY' transcript verify --allow-unsealed --root '$ROOT' '$TR5' | grep -q 'Replayed: 0 certificates, 3 CRLs'"
# A look-alike root (same name, another key) issues a certificate; replay against the real root refuses it.
TRX=$T/transcripts/9999-other.jsonl
new_token other-hsm "$TRX"
cer key generate --token other-hsm --label root --type ec-p384 --transcript "$TRX" >/dev/null
cer cert root --token other-hsm --key root --profile "$P/root.yaml" --subject "/C=DE/O=ACME Devices/CN=ACME Devices Root CA" --out "$T/out/fake-root.pem" --transcript "$TRX" >/dev/null
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/f.key" -subj "/C=DE/O=ACME Devices/CN=Fake CA" -out "$M/csr/fake.csr" 2>/dev/null
cer cert sign --token other-hsm --key root --issuer "$T/out/fake-root.pem" --profile "$P/intermediate-ca.yaml" --csr "$M/csr/fake.csr" --out "$M/out/fake.pem" --transcript "$TRX" --expect-file "$(pins_for "$M/csr/fake.csr")" --history "$T/none" >/dev/null
expect_fail "replay refuses a certificate from another root" 1 'line [0-9]+: .*(not the given root|not signed)' \
	"$CEREMONY" transcript verify --allow-unsealed --root "$ROOT" "$TRX"
chmod u+w "$M/csr/factory-1.csr"; printf ' ' >>"$M/csr/factory-1.csr"
expect_fail "a changed input (the CSR) is caught" 1 'line 2: input media/csr/factory-1.csr has changed' \
	"$CEREMONY" transcript verify --allow-unsealed --root "$ROOT" "$TR"
finish

#!/usr/bin/env bash
# ceremony csr show: good requests are accepted; a corpus of bad ones, made with
# the openssl CLI and DER built byte by byte (hex, xxd), is refused with exit 1
# and the check that catches each one named (docs/csr.md). No HSM is needed.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d /tmp/ceremony-csr-test.XXXXXX)
on_exit '[ -n "${KEEP:-}" ] || rm -rf "$W"'
cd "$W" || exit 1

# --- DER as hex: every helper prints hex, xxd turns it into bytes at the end.
der_len() {
	local n=$1
	if [ "$n" -lt 128 ]; then printf '%02x' "$n"
	elif [ "$n" -lt 256 ]; then printf '81%02x' "$n"
	else printf '82%04x' "$n"; fi
}
tlv() { printf '%s%s%s' "$1" "$(der_len $((${#2} / 2)))" "$2"; }
hexof() { printf '%s' "$1" | xxd -p | tr -d '\n'; }
rdn() { tlv 31 "$(tlv 30 "$(tlv 06 "$1")$(tlv "$2" "$3")")"; } # OID TAG VALUE
OID_C=550406 OID_O=55040a OID_CN=550403 OID_SERIAL=550405
UTF8=0c PRINTABLE=13
std_dn() { # the usual C=DE, O=ACME Devices, CN=$1
	tlv 30 "$(rdn $OID_C $PRINTABLE "$(hexof DE)")$(rdn $OID_O $UTF8 "$(hexof 'ACME Devices')")$(rdn $OID_CN $UTF8 "$(hexof "$1")")"
}
ext() { # OID CRITICAL(0|1) VALUE
	local crit=""
	[ "$2" = 1 ] && crit=0101ff
	tlv 30 "$(tlv 06 "$1")$crit$(tlv 04 "$3")"
}
ext_request() { tlv 30 "$(tlv 06 2a864886f70d01090e)$(tlv 31 "$(tlv 30 "$1")")"; }
spki_of() { openssl pkey -in "$1" -pubout -outform DER | xxd -p | tr -d '\n'; }
sig_alg() { # KEY MD: the AlgorithmIdentifier for the key's type and hash
	local oid
	if openssl pkey -in "$1" -noout -text 2>/dev/null | grep -q primes; then
		case $2 in
		sha256) oid=2a864886f70d01010b ;; sha384) oid=2a864886f70d01010c ;;
		sha512) oid=2a864886f70d01010d ;; sha1) oid=2a864886f70d010105 ;;
		md5) oid=2a864886f70d010104 ;;
		esac
		tlv 30 "$(tlv 06 $oid)0500"
	else
		case $2 in
		sha256) oid=2a8648ce3d040302 ;; sha384) oid=2a8648ce3d040303 ;;
		sha512) oid=2a8648ce3d040304 ;; sha1) oid=2a8648ce3d0401 ;;
		esac
		tlv 30 "$(tlv 06 $oid)"
	fi
}
# build OUT KEY MD SUBJECT ATTRIBUTES [VERSION] [SPKI]: sign the request info with KEY.
build() {
	local out=$1 key=$2 md=$3 subj=$4 attrs=$5 ver=${6:-00} spki=${7:-} tbs sig
	[ -n "$spki" ] || spki=$(spki_of "$key")
	tbs=$(tlv 30 "$(tlv 02 "$ver")$subj$spki$(tlv a0 "$attrs")")
	printf '%s' "$tbs" | xxd -r -p >tbs.bin
	sig=$(openssl dgst -"$md" -sign "$key" tbs.bin | xxd -p | tr -d '\n')
	tlv 30 "$tbs$(sig_alg "$key" "$md")$(tlv 03 "00$sig")" | xxd -r -p >"$out"
}
ossl_req() { # OUT KEY SUBJECT [req options]: a request made by openssl itself
	local out=$1 key=$2 subj=$3
	shift 3
	openssl req -new -key "$key" -subj "$subj" "$@" -out "$out" 2>/dev/null
}

# expect_refused NAME CHECK FILE [ARGS]: exit 1, CHECK named as failed, one stderr line.
expect_refused() {
	local name=$1 chk=$2 file=$3 out err rc
	shift 3
	printf '%s %s\n' "$file" "$*" >>corpus.list # replayed through cert sign at the end
	out=$("$CEREMONY" csr show "$file" "$@" 2>err.txt)
	rc=$?
	err=$(cat err.txt)
	if [ "$rc" -ne 1 ]; then
		fail "$name" "expected exit 1, got $rc: $err"
	elif ! printf '%s\n%s\n' "$out" "$err" | grep -qE -- "(✗ $chk:|: $chk: |failed: (.*, )?$chk(,|\$))"; then
		fail "$name" "check $chk not reported failed: $out $err"
	elif [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then
		fail "$name" "expected one stderr line: $err"
	else
		pass "$name"
	fi
}

# --- keys and profiles
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out p521.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime192v1 -out p192.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 -out k1.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2048.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out rsa3072.pem 2>/dev/null
openssl genpkey -algorithm ED25519 -out ed.pem 2>/dev/null
openssl ecparam -name prime256v1 -param_enc explicit -genkey -noout -out explicit.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out root.key 2>/dev/null
openssl req -x509 -new -key root.key -subj "/C=DE/O=ACME Devices/CN=ACME Root" -days 30 \
	-out root.pem 2>/dev/null

cat >masa.yaml <<'EOF'
name: masa
kind: end-entity
key_types: [ec-p256, ec-p384, rsa-3072]
validity:
  days: 730
basic_constraints:
  ca: false
key_usage: [digitalSignature]
certificate_policies: [1.3.6.1.4.1.99999.1.2]
subject_key_identifier: sha1
authority_key_identifier: true
subject_alt_name_from_csr: true
subject:
  from_csr: [C, O, OU, CN]
  forbidden: [serialNumber]
EOF
cat >ca.yaml <<'EOF'
name: intermediate
kind: ca
key_types: [ec-p384, ec-p256, rsa-3072]
validity:
  days: 3650
basic_constraints:
  ca: true
  path_len: 0
key_usage: [keyCertSign, cRLSign]
certificate_policies: [1.3.6.1.4.1.99999.1.1]
subject_key_identifier: sha1
authority_key_identifier: true
subject:
  from_csr: [C, O, OU, CN]
EOF
EE="--profile masa.yaml"
CA="--profile ca.yaml"
MASA_SUBJ="/C=DE/O=ACME Devices/CN=ACME MASA voucher signer"
CA_SUBJ="/C=DE/O=ACME Devices/CN=ACME IDevID CA 1"

# --- good requests
ossl_req good-p256.csr p256.pem "$MASA_SUBJ" -sha256 \
	-addext "certificatePolicies=1.3.6.1.4.1.99999.1.2" -addext "subjectAltName=DNS:masa.example.com"
ossl_req good-p384.csr p384.pem "$CA_SUBJ" -sha384 -addext "basicConstraints=critical,CA:TRUE,pathlen:0"
ossl_req good-rsa3072.csr rsa3072.pem "$CA_SUBJ" -sha256
expect_ok "P-256 MASA request with a SAN is accepted" "$CEREMONY" csr show good-p256.csr $EE --root root.pem
expect_ok "P-384 CA request agreeing with the profile is accepted" "$CEREMONY" csr show good-p384.csr $CA --root root.pem
expect_ok "RSA-3072 CA request is accepted" "$CEREMONY" csr show good-rsa3072.csr $CA
expect_ok "request without a profile is accepted" "$CEREMONY" csr show good-p256.csr
openssl req -in good-p384.csr -outform DER -out good-p384.der
{ printf '\n  \n'; cat good-p256.csr; printf '\n\n'; } >good-spaced.csr
expect_ok "DER request is accepted" "$CEREMONY" csr show good-p384.der $CA
expect_ok "whitespace around the PEM block is accepted" "$CEREMONY" csr show good-spaced.csr $EE
fp=$(openssl req -in good-p256.csr -pubkey -noout | openssl pkey -pubin -outform DER |
	sha256sum | cut -c1-64 | sed 's/..../& /g; s/ $//')
check "SPKI fingerprint matches openssl's, in groups of four" \
	grep -qF "SPKI SHA-256: $fp" <("$CEREMONY" csr show good-p256.csr)
check "requested extensions are listed" \
	grep -q "subjectAltName.*DNS:masa.example.com" <("$CEREMONY" csr show good-p256.csr)
check "every check is printed with a tick" \
	grep -q "✓ self-signature" <("$CEREMONY" csr show good-p256.csr)
"$CEREMONY" csr show >/dev/null 2>&1
check "no file is a usage error (exit 2)" test $? -eq 2
"$CEREMONY" csr show good-p256.csr --bogus >/dev/null 2>&1
check "unknown option is a usage error (exit 2)" test $? -eq 2

# --- parsing: one strict object
openssl req -in good-p256.csr -outform DER -out p256.der
{ cat p256.der; printf 'JUNK'; } >trailing.der
expect_refused "trailing bytes after the DER" der-strict trailing.der
{ printf '3080'; tail -c +5 p256.der | xxd -p | tr -d '\n'; printf '0000'; } | xxd -r -p >indefinite.der
expect_refused "indefinite length encoding" der-strict indefinite.der
cat good-p256.csr good-p384.csr >two.csr
expect_refused "PEM with two requests" pem-format two.csr
cat good-p256.csr root.pem >withcert.csr
expect_refused "PEM with a certificate block too" pem-format withcert.csr
{ echo "Subject: please sign"; cat good-p256.csr; } >preamble.csr
expect_refused "text before the PEM block" pem-format preamble.csr
openssl x509 -in root.pem >onlycert.csr
expect_refused "a certificate instead of a request" pem-format onlycert.csr

# --- signature
xxd -p p256.der | tr -d '\n' >sig.hex
last=$(tail -c 2 sig.hex)
{ head -c -2 sig.hex; printf '%02x' $((0x$last ^ 0x01)); } | xxd -r -p >badsig.der
expect_refused "flipped signature byte" self-signature badsig.der
ossl_req sha1.csr p256.pem "$MASA_SUBJ" -sha1
expect_refused "SHA-1 signature" signature-hash sha1.csr
build md5.csr rsa2048.pem md5 "$(std_dn "MD5 signer")" ""
expect_refused "MD5 signature" signature-hash md5.csr
ossl_req p384sha256.csr p384.pem "$CA_SUBJ" -sha256
expect_refused "P-384 key signed with SHA-256" signature-hash p384sha256.csr

# --- keys
ossl_req rsa1024.csr rsa1024.pem "$MASA_SUBJ" -sha256
expect_refused "RSA-1024 key" key-size rsa1024.csr
modulus=$(openssl rsa -in rsa2048.pem -noout -modulus | cut -d= -f2)
rsa_spki() { tlv 30 "$(tlv 30 "$(tlv 06 2a864886f70d010101)0500")$(tlv 03 "00$(tlv 30 "$(tlv 02 "00$modulus")$(tlv 02 "$1")")")"; }
build rsa-even-e.csr rsa2048.pem sha256 "$(std_dn "even e")" "" 00 "$(rsa_spki 010002)"
expect_refused "RSA with an even exponent" key-exponent rsa-even-e.csr
build rsa-e1.csr rsa2048.pem sha256 "$(std_dn "e one")" "" 00 "$(rsa_spki 01)"
expect_refused "RSA with exponent 1" key-exponent rsa-e1.csr
ossl_req p192.csr p192.pem "$MASA_SUBJ" -sha256
expect_refused "P-192 key" key-curve p192.csr
ossl_req k1.csr k1.pem "$MASA_SUBJ" -sha256
expect_refused "secp256k1 key" key-curve k1.csr
ossl_req explicit.csr explicit.pem "$MASA_SUBJ" -sha256
expect_refused "explicit curve parameters" key-curve explicit.csr
spki=$(spki_of p256.pem)
build offcurve.csr p256.pem sha256 "$(std_dn "off curve")" "" 00 \
	"${spki:0:${#spki}-2}$(printf '%02x' $((0x${spki: -2} ^ 0x01)))"
expect_refused "point not on the curve" key-public-check offcurve.csr
build infinity.csr p256.pem sha256 "$(std_dn "infinity")" "" 00 \
	"$(tlv 30 "$(tlv 30 "$(tlv 06 2a8648ce3d0201)$(tlv 06 2a8648ce3d030107)")$(tlv 03 0000)")"
expect_refused "point at infinity" key-public-check infinity.csr
ossl_req ed.csr ed.pem "$MASA_SUBJ"
expect_refused "Ed25519 key" key-algorithm ed.csr
ossl_req reuse.csr root.key "$CA_SUBJ" -sha384
expect_refused "the root's own key" key-reuse reuse.csr $CA --root root.pem
ossl_req p521.csr p521.pem "$MASA_SUBJ" -sha512
expect_refused "P-521 key on a profile that cannot list it" profile-key-type p521.csr $EE
ossl_req rsa2048ca.csr rsa2048.pem "$CA_SUBJ" -sha256
expect_refused "RSA-2048 on a CA profile" profile-key-type rsa2048ca.csr $CA

# --- version and attributes
build v1.csr p256.pem sha256 "$(std_dn "version one")" "" 01
expect_refused "version 1 request" version v1.csr
build attr.csr p256.pem sha256 "$(std_dn "attribute")" \
	"$(tlv 30 "$(tlv 06 2a864886f70d010902)$(tlv 31 "$(tlv 0c "$(hexof factory-7)")")")"
expect_refused "unstructuredName attribute" attributes attr.csr
build challenge.csr p256.pem sha256 "$(std_dn "challenge")" \
	"$(tlv 30 "$(tlv 06 2a864886f70d010907)$(tlv 31 "$(tlv 0c "$(hexof secret)")")")"
expect_refused "challengePassword attribute" attributes challenge.csr

# --- subject
build huge.csr p256.pem sha256 "$(std_dn "$(printf 'x%.0s' $(seq 1 1100))")" ""
expect_refused "huge subject" subject-length huge.csr
build nul.csr p256.pem sha256 \
	"$(tlv 30 "$(rdn $OID_C $PRINTABLE "$(hexof DE)")$(rdn $OID_CN $UTF8 41004200)")" ""
expect_refused "NUL in CN" subject-strings nul.csr
build ctrl.csr p256.pem sha256 \
	"$(tlv 30 "$(rdn $OID_O $UTF8 41434d451b5b326a)$(rdn $OID_CN $UTF8 "$(hexof signer)")")" ""
expect_refused "control character in O" subject-strings ctrl.csr
build empty.csr p256.pem sha256 "3000" ""
expect_refused "empty subject where a CN is needed" subject-cn empty.csr $EE
build twocn.csr p256.pem sha256 \
	"$(tlv 30 "$(rdn $OID_CN $UTF8 "$(hexof one)")$(rdn $OID_CN $UTF8 "$(hexof two)")")" ""
expect_refused "two CNs" subject-cn twocn.csr
build c3.csr p256.pem sha256 \
	"$(tlv 30 "$(rdn $OID_C $PRINTABLE "$(hexof DEU)")$(rdn $OID_CN $UTF8 "$(hexof x)")")" ""
expect_refused "three-letter country" subject-country c3.csr
build cutf8.csr p256.pem sha256 \
	"$(tlv 30 "$(rdn $OID_C $UTF8 "$(hexof DE)")$(rdn $OID_CN $UTF8 "$(hexof x)")")" ""
expect_refused "country as UTF8String" subject-country cutf8.csr
# Subject hygiene (issue 10.5; zlint/pkilint class): one meaning, one spelling.
hygiene() { # NAME FILE CN-HEX
	build "$2" p256.pem sha256 "$(tlv 30 "$(rdn $OID_C $PRINTABLE "$(hexof DE)")$(rdn $OID_O $UTF8 "$(hexof 'ACME Devices')")$(rdn $OID_CN $UTF8 "$3")")" ""
	expect_refused "$1" subject-strings "$2" $EE
}
hygiene "leading space in CN" lead.csr "$(hexof ' MASA 1')"
hygiene "trailing space in CN" trail.csr "$(hexof 'MASA 1 ')"
hygiene "two spaces in a row in CN" double.csr "$(hexof 'MASA  1')"
hygiene "right-to-left override U+202E in CN" rlo.csr "$(hexof 'MASA ')e280ae$(hexof '1')"
hygiene "left-to-right embedding U+202A in CN" lre.csr "$(hexof 'MASA ')e280aa$(hexof '1')"
hygiene "first strong isolate U+2068 in CN" fsi.csr "$(hexof 'MASA ')e281a8$(hexof '1')"
hygiene "zero-width space U+200B in CN" zwsp.csr "$(hexof 'MASA')e2808b$(hexof ' 1')"
hygiene "zero-width joiner U+200D in CN" zwj.csr "$(hexof 'MASA')e2808d$(hexof ' 1')"
hygiene "byte order mark U+FEFF in CN" bom.csr "efbbbf$(hexof 'MASA 1')"
hygiene "decomposed e + U+0301 (not NFC) in CN" nfd.csr "$(hexof 'MASA Caf')65cc81"
build nfc.csr p256.pem sha256 "$(tlv 30 "$(rdn $OID_C $PRINTABLE "$(hexof DE)")$(rdn $OID_O $UTF8 "$(hexof 'ACME Devices')")$(rdn $OID_CN $UTF8 "$(hexof 'MASA Caf')c3a9")")" ""
expect_ok "the same CN in NFC (U+00E9) is accepted" "$CEREMONY" csr show nfc.csr $EE
# csr show --profile gives cert sign's verdict on attributes outside from_csr.
ossl_req locality.csr p256.pem "$MASA_SUBJ/L=Berlin" -sha256
expect_refused "L outside the MASA profile's from_csr" profile-subject-attributes locality.csr $EE
ossl_req email.csr p384.pem "$CA_SUBJ/emailAddress=ca@example.com" -sha384
expect_refused "emailAddress outside the CA profile's from_csr" profile-subject-attributes email.csr $CA
ossl_req caserial.csr p384.pem "$CA_SUBJ/serialNumber=42" -sha384
expect_refused "serialNumber outside the CA profile's from_csr" profile-subject-attributes caserial.csr $CA
ossl_req serial.csr p256.pem "$MASA_SUBJ/serialNumber=00-D0-E5-F2-00-02" -sha256
expect_refused "serialNumber in a MASA subject" profile-subject serial.csr $EE
ossl_req noorg.csr p384.pem "/C=DE/CN=ACME IDevID CA 2" -sha384
expect_refused "CA subject without O" profile-subject noorg.csr $CA

# --- requested extensions
ossl_req ca-true.csr p256.pem "$MASA_SUBJ" -sha256 -addext "basicConstraints=critical,CA:TRUE"
expect_refused "CA:TRUE on an end-entity profile" profile-basic-constraints ca-true.csr $EE
ossl_req pathlen.csr p384.pem "$CA_SUBJ" -sha384 -addext "basicConstraints=critical,CA:TRUE,pathlen:3"
expect_refused "pathLen the profile does not have" profile-basic-constraints pathlen.csr $CA
ossl_req crit.csr p256.pem "$MASA_SUBJ" -sha256 -addext "1.3.6.1.4.1.99999.7=critical,DER:0500"
expect_refused "unknown critical extension" extensions-critical crit.csr
san=$(ext 551d11 0 "$(tlv 30 "$(tlv 82 "$(hexof a.example)")")")
build dup.csr p256.pem sha256 "$(std_dn "dup")" "$(ext_request "$san$san")"
expect_refused "duplicate extension" extensions-unique dup.csr
ossl_req anypolicy.csr p256.pem "$MASA_SUBJ" -sha256 -addext "certificatePolicies=2.5.29.32.0"
expect_refused "anyPolicy requested" profile-policies anypolicy.csr $EE
ossl_req otherpolicy.csr p256.pem "$MASA_SUBJ" -sha256 -addext "certificatePolicies=1.3.6.1.4.1.99999.1.1"
expect_refused "policy not in the profile" profile-policies otherpolicy.csr $EE
ossl_req cmcra.csr p256.pem "$MASA_SUBJ" -sha256 -addext "extendedKeyUsage=1.3.6.1.5.5.7.3.28"
expect_refused "cmcRA EKU on the MASA profile" profile-eku cmcra.csr $EE
ossl_req server.csr p256.pem "$MASA_SUBJ" -sha256 -addext "extendedKeyUsage=serverAuth"
expect_refused "serverAuth EKU on the MASA profile" profile-eku server.csr $EE
ossl_req kucert.csr p256.pem "$MASA_SUBJ" -sha256 -addext "keyUsage=critical,digitalSignature,keyCertSign"
expect_refused "keyCertSign on an end-entity profile" profile-key-usage kucert.csr $EE
ossl_req sanca.csr p384.pem "$CA_SUBJ" -sha384 -addext "subjectAltName=DNS:ca.example"
expect_refused "subjectAltName on a CA profile" profile-san sanca.csr $CA
ossl_req nc.csr p384.pem "$CA_SUBJ" -sha384 -addext "nameConstraints=critical,permitted;DNS:example.com"
expect_refused "nameConstraints requested" profile-forbidden-extensions nc.csr $CA
ossl_req ski.csr p256.pem "$MASA_SUBJ" -sha256 -addext "subjectKeyIdentifier=hash"
expect_refused "SKI requested" profile-forbidden-extensions ski.csr $EE
ossl_req masaurl.csr p256.pem "$MASA_SUBJ" -sha256 -addext "1.3.6.1.5.5.7.1.32=ASN1:IA5STRING:masa.example:9443"
expect_refused "id-pe-masa-url requested" profile-forbidden-extensions masaurl.csr $EE
ossl_req unknown.csr p256.pem "$MASA_SUBJ" -sha256 -addext "1.3.6.1.4.1.99999.8=DER:0500"
expect_refused "unknown non-critical extension with a profile" profile-unknown-extensions unknown.csr $EE

# --- several failures are all named
check "every failed check is named, not only the first" \
	grep -q "failed: .*signature-hash.*key-curve\|failed: .*key-curve" \
	<("$CEREMONY" csr show p192.csr --profile masa.yaml 2>&1 >/dev/null)
err=$("$CEREMONY" csr show rsa1024.csr $CA 2>&1 >/dev/null)
check "stderr summarises the refusal in one line" \
	grep -qE "^ceremony: rsa1024.csr: refused: [0-9]+ checks failed: .*key-size" <<<"$err"

# --- the whole bad corpus through cert sign: each refused, recorded, nothing written
setup_hsm
make_root root-hsm root ec-p384 "$T/transcripts/root.jsonl" "$T/out/root.pem" "/C=DE/O=ACME Devices/CN=ACME Root"
STR=$T/transcripts/sign.jsonl
n_bad=0 n_refused=0
while read -r f args; do
	case "$args" in *--root*) continue ;; esac # key reuse against a test root, not the HSM's
	prof=masa.yaml
	case "$args" in *ca.yaml*) prof=ca.yaml ;; esac
	n_bad=$((n_bad + 1))
	if cer cert sign --token root-hsm --key root --issuer "$T/out/root.pem" --profile "$prof" \
		--csr "$f" --out "$T/out/$f.pem" --transcript "$STR" >/dev/null 2>"$T/err"; then
		fail "cert sign refuses $f" "it was signed"
	elif [ "$(grep -vc '^ceremony: WARNING: the air gap is overridden' "$T/err")" -ne 1 ] || ! grep -q "refused" "$T/err"; then
		fail "cert sign refuses $f" "$(cat "$T/err")"
	else
		n_refused=$((n_refused + 1))
	fi
done <corpus.list
check "cert sign refuses all $n_bad bad requests (at least 25)" test "$n_refused" -eq "$n_bad" -a "$n_bad" -ge 25
check "no certificate was written for any of them" test -z "$(ls "$T/out" | grep -v '^root.pem$')"
check "each refusal is recorded in the transcript" test "$(grep -c '"action":"cert.refused"' "$STR")" -eq "$n_bad"
finish

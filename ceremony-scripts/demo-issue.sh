# Sourced by demo.sh: the signing ceremony. CSRs arrive on a simulated removable
# medium ($DEMO_DIR/media/csr), the root signs them, the CRL is issued, and the
# outputs go to $DEMO_DIR/out. Uses cer, step, DEMO_DIR, PROFILES from demo.sh.
VOUCHER_OID=1.3.6.1.4.1.32473.1.2
TR2=$DEMO_DIR/transcripts/signing.jsonl
mkdir -p "$DEMO_DIR/media/csr" "$DEMO_DIR/requester-keys"
step "Ceremony 2: requests arrive on removable media"
req() { # NAME SUBJECT KEYOPTS... (made by the requesters, not at the ceremony)
	local name=$1 subj=$2
	shift 2
	openssl req -new -nodes "$@" -keyout "$DEMO_DIR/requester-keys/$name.key" -subj "$subj" \
		-out "$DEMO_DIR/media/csr/$name.csr" 2>/dev/null
}
req factory-1 "/C=DE/O=ACME Devices/CN=ACME Factory 1 IDevID CA" -newkey ec -pkeyopt ec_paramgen_curve:P-256
req legacy-tpm "/C=DE/O=ACME Devices/CN=ACME Legacy TPM IDevID CA" -newkey rsa:3072
req masa "/C=DE/O=ACME Devices/CN=ACME MASA voucher signer" -newkey ec -pkeyopt ec_paramgen_curve:P-256
for c in factory-1 legacy-tpm masa; do
	"$CEREMONY" csr show "$DEMO_DIR/media/csr/$c.csr" | sed -n '1,4p'
done
sign_demo() { # PROFILE CSR OUT [args]
	local prof=$1 name=$2 out=$3
	shift 3
	cer cert sign --token root-hsm --key root-2026 --issuer "$DEMO_DIR/out/root.pem" \
		--profile "$PROFILES/$prof.yaml" --csr "$DEMO_DIR/media/csr/$name.csr" \
		--out "$DEMO_DIR/out/$out.pem" --transcript "$TR2" --ceremony signing-demo "$@"
}
step "Sign the factory-1 IDevID intermediate (P-256, notAfter 99991231235959Z)"
sign_demo intermediate-ca factory-1 intermediate --previous "$DEMO_DIR/transcripts/root-keygen.jsonl"
step "Sign the legacy-tpm IDevID intermediate (RSA-3072)"
sign_demo idevid-ca-rsa legacy-tpm legacy-tpm
step "Sign the MASA voucher signer, with the voucher-authorization policy"
sign_demo masa-voucher-signer masa masa
step "Sign the root CRL (revoking a test serial)"
cer crl sign --token root-hsm --key root-2026 --issuer "$DEMO_DIR/out/root.pem" \
	--revoke 0DEC0DE0DEC0DE01 --reason cessationOfOperation --next-update 180 \
	--out "$DEMO_DIR/out/root.crl" --transcript "$TR2"
cer transcript seal --token root-hsm --key root-2026 --cert "$DEMO_DIR/out/root.pem" "$TR2"
step "Check the chains with OpenSSL, policies enforced"
openssl verify -x509_strict -policy 1.3.6.1.4.1.32473.1.1 -explicit_policy \
	-CAfile "$DEMO_DIR/out/root.pem" "$DEMO_DIR/out/intermediate.pem" "$DEMO_DIR/out/legacy-tpm.pem"
openssl verify -x509_strict -policy "$VOUCHER_OID" -explicit_policy \
	-CAfile "$DEMO_DIR/out/root.pem" "$DEMO_DIR/out/masa.pem"
openssl crl -in "$DEMO_DIR/out/root.crl" -CAfile "$DEMO_DIR/out/root.pem" -verify -noout
"$CEREMONY" transcript verify --root "$DEMO_DIR/out/root.pem" "$TR2" | tail -4

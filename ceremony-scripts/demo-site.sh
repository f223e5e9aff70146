# A ceremony site for the demo and the tests: ceremony.yaml, an answers file
# whose PIN and passphrase sources are files (the demo and the tests have no
# people to type them; a real ceremony types them), and the CSRs the
# requesters bring on the medium. Needs CEREMONY_MODULE and SOFTHSM2_CONF set.
# make_site DIR: DIR/{out,media,backup-media,internal,transcripts,pins,requester-keys};
# media is the removable medium that goes to the factory (requests in, certificates
# out); backup-media is the backup blob's own medium, which never goes there;
# sets SITE, SITE_CONFIG, SITE_ANSWERS.
make_site() {
	SITE=$1
	mkdir -p "$SITE/out" "$SITE/media/csr" "$SITE/media/out" "$SITE/backup-media" \
		"$SITE/kit-medium" "$SITE/internal" "$SITE/transcripts" "$SITE/pins" "$SITE/requester-keys"
	SITE_CONFIG=$SITE/ceremony.yaml
	# The CA's archive keeps the profiles it issues under: verify, replay and audit
	# follow recorded paths only inside the archive (the folder above transcripts/).
	mkdir -p "$SITE/profiles"
	[ "${SITE_PROFILES:-$PWD/ceremony-scripts/profiles}" -ef "$SITE/profiles" ] ||
		cp "${SITE_PROFILES:-$PWD/ceremony-scripts/profiles}"/*.yaml "$SITE/profiles/"
	SITE_PROFILES=$SITE/profiles
	cat >"$SITE_CONFIG" <<CONF
module: $CEREMONY_MODULE
root_subject: /C=DE/O=ACME Devices/CN=ACME Devices Root CA 2026
out: $SITE/out
media: $SITE/media
backup_media: $SITE/backup-media
internal: $SITE/internal
profiles: $SITE_PROFILES
transcripts: $SITE/transcripts
kit_medium: $SITE/kit-medium
toolkit: ${SITE_TOOLKIT:-$(dirname "$CEREMONY")/toolkit}
revoke_serial: 0DEC0DE0DEC0DE01
revoke_reason: cessationOfOperation
# The backup's k and n: confidential, so here and in no script (issue 11.5);
# so are the Key Executive cards, whose number is n.
backup_threshold: 3
backup_shares: 5
key_executives: KE1=card-1, KE2=card-2, KE3=card-3, KE4=card-4, KE5=card-5
recovery_key_executives: KE1=card-1, KE3=card-3, KE5=card-5
# For the custodian rekey (site_rekey sets key_executives to the new set then).
old_key_executives: KE1=card-1, KE2=card-2, KE3=card-3, KE4=card-4, KE5=card-5
joining_key_executives: KE6=card-6
CONF
	SITE_ANSWERS=$SITE/answers.yaml
	{
		echo "confirm_all: yes"
		echo "roles:"
		for r in CA IW SO KE1 KE2 KE3 KE4 KE5 KE6 AU; do
			printf '%s' "pin-of-$r-4711" >"$SITE/pins/$r.pin"
			printf '%s' "passphrase of $r, long enough" >"$SITE/pins/$r.pass"
			printf '  %s: {name: "Person %s", pin: "file:%s", so_pin: "file:%s", passphrase: "file:%s"}\n' \
				"$r" "$r" "$SITE/pins/$r.pin" "$SITE/pins/$r.pin" "$SITE/pins/$r.pass"
		done
	} >"$SITE_ANSWERS"
	# A PIN file others can read is refused: owner only.
	chmod 600 "$SITE"/pins/*
	# The requesters make their CSRs before the ceremony and bring them on the medium.
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$SITE/requester-keys/factory-1.key" \
		-subj "/C=DE/O=ACME Devices/CN=ACME Factory 1 IDevID CA" -out "$SITE/media/csr/factory-1.csr" 2>/dev/null
	openssl req -new -nodes -newkey rsa:3072 -keyout "$SITE/requester-keys/legacy-tpm.key" \
		-subj "/C=DE/O=ACME Devices/CN=ACME Legacy TPM IDevID CA" -out "$SITE/media/csr/legacy-tpm.csr" 2>/dev/null
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$SITE/requester-keys/masa.key" \
		-subj "/C=DE/O=ACME Devices/CN=ACME MASA voucher signer" -out "$SITE/media/csr/masa.csr" 2>/dev/null
	# The SPKI SHA-256 each requester publishes before the day, pinned by the signing
	# script through the site configuration (here taken from the CSRs themselves).
	local name
	for name in factory-1 legacy-tpm masa; do
		printf '%s_spki: %s\n' "${name//-/_}" "$(openssl req -in "$SITE/media/csr/$name.csr" -pubkey -noout |
			openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)" >>"$SITE_CONFIG"
	done
	# Shares sealed at the test Argon2id cost (1 pass, 8 KiB): loud and recorded, and an
	# audit outside a scripted run must say --allow-test-cost (issue 9 item 14).
	printf 'argon2_cost: test\n' >>"$SITE_CONFIG"
}

# site_revoke CERT.pem REASON: the CRL ceremony's revocation request names this
# certificate (crl sign refuses serials the CA never issued): prints the path of
# a copy of the site configuration with revoke_serial and revoke_reason set, for
# SITE_RUN_CONFIG=... run_script root-crl ...
site_revoke() {
	local serial
	serial=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2) || return 1
	sed -e "s/^revoke_serial: .*/revoke_serial: $serial/" -e "s/^revoke_reason: .*/revoke_reason: $2/" \
		"$SITE_CONFIG" >"$SITE/ceremony-crl.yaml" || return 1
	printf '%s\n' "$SITE/ceremony-crl.yaml"
}

# site_rekey: the custodian rekey's site configuration (prints its path): Key
# Executive 5 leaves and 6 joins, so key_executives becomes the new set of cards
# (old_key_executives, the old backup's cards, and joining_key_executives, the new
# card to initialise, are in the site's configuration already).
site_rekey() {
	sed -e "s/^key_executives: .*/key_executives: KE1=card-1, KE2=card-2, KE3=card-3, KE4=card-4, KE6=card-6/" \
		"$SITE_CONFIG" >"$SITE/ceremony-rekey.yaml" || return 1
	printf '%s\n' "$SITE/ceremony-rekey.yaml"
}

# run_script NAME TRANSCRIPT [PREVIOUS] [more options]: a shipped script, non-interactive.
run_script() {
	local name=$1 tr=$2
	shift 2
	local prev=()
	if [ $# -gt 0 ] && [ -n "$1" ]; then prev=(--previous "$SITE/transcripts/$1.jsonl"); fi
	[ $# -gt 0 ] && shift
	"$CEREMONY" --config "${SITE_RUN_CONFIG:-$SITE_CONFIG}" run "ceremony-scripts/$name.yaml" --answers "$SITE_ANSWERS" \
		--transcript "$SITE/transcripts/$tr.jsonl" "${prev[@]}" "$@"
}

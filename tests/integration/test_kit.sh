#!/usr/bin/env bash
# The recovery kit: `backup kit` writes only the current backup with everything a
# backup site needs, checked before the PIN is asked; `backup kit verify` checks a
# kit offline and names what was tampered with. Checked with sha256sum and openssl
# cms too. Then the disaster: the site is gone but for the kit and k cards.
. "$(dirname "$0")/lib.sh"
setup_hsm
ROOT_DIR=$SRC_ROOT
TOOLKIT=$ROOT_DIR/${BUILD:-build}/toolkit
[ -f "$TOOLKIT/tool/SHA256SUMS" ] || fatal "make toolkit has not run ($TOOLKIT)"
A=$T/archive # the CA's archive: transcripts/, out/, media/, internal/
mkdir -p "$A/transcripts" "$A/out" "$A/media/backup" "$A/internal"
TR1=$A/transcripts/0001-root.jsonl
make_root root-hsm root ec-p384 "$TR1" "$A/out/root.pem"
SIGNER=$A/out/ceremony-signer.pem
cer cert signer --token root-hsm --key root --issuer "$A/out/root.pem" --profile "$T/profiles/ceremony-signer.yaml" \
	--label signing --out "$SIGNER" --transcript "$TR1" >/dev/null || fatal "cert signer"
for i in 1 2 3; do
	new_token "card-$i" "$TR1"
	printf 'passphrase of KE%s, long enough' "$i" >"$T/pins/pass$i"
done
pins() { local s="" i; for i in "$@"; do s="$s${s:+,}file:$T/pins/user"; done; echo "$s"; }
passes() { local s="" i; for i in "$@"; do s="$s${s:+,}file:$T/pins/pass$i"; done; echo "$s"; }
backup() { # OUT INTERNAL TRANSCRIPT [--supersedes-style args...]
	local out=$1 internal=$2 tr=$3 verb=$4
	shift 4
	cer backup "$verb" --test-cost --token root-hsm --key root --threshold 2 --shares 3 \
		--cards card-1,card-2,card-3 --card-pin-sources "$(pins 1 2 3)" --passphrase-sources "$(passes 1 2 3)" \
		--out "$out" --internal-record "$internal" --transcript "$tr" "$@" >/dev/null
}
backup "$A/media/backup/root-backup.blob" "$A/internal/backup-internal.json" "$TR1" create ||
	fatal "backup create"
cer transcript seal --token root-hsm --key signing --cert "$SIGNER" "$TR1" >/dev/null || fatal "seal 1"
echo "site: demo" >"$T/ceremony.yaml"
echo "module: $CEREMONY_MODULE" >>"$T/ceremony.yaml"

kit() { # OUT BLOB INTERNAL [more options]
	local out=$1 blob=$2 internal=$3
	shift 3
	cer backup kit --out "$out" --blob "$blob" --internal-record "$internal" --root "$A/out/root.pem" \
		--history "$A/transcripts" --toolkit "$TOOLKIT" --site-config "$T/ceremony.yaml" \
		--token root-hsm --key signing --cert "$SIGNER" "$@"
}
K=$T/kit-1
expect_ok "backup kit writes a kit of the current backup" kit "$K" "$A/media/backup/root-backup.blob" \
	"$A/internal/backup-internal.json"
for f in KIT.json README.txt MANIFEST.sha256 MANIFEST.sha256.sig out/root.pem media/backup/root-backup.blob \
	internal/backup-internal.json transcripts/0001-root.jsonl transcripts/0001-root.jsonl.sig site/ceremony.yaml \
	tool/SHA256SUMS tool/debian-packages.txt tool/BUILD-INFO guides/recovery.html guides/key-executive-guide.html; do
	check "the kit holds $f" test -s "$K/$f"
done
check "the kit holds the tool's source archive" bash -c "ls '$K'/tool/ceremony-*-src.tar.gz"
check "sha256sum -c accepts the kit's manifest" bash -c "cd '$K' && sha256sum --quiet -c MANIFEST.sha256"
check "the manifest lists every file of the kit but itself" bash -c "cd '$K' && \
	diff <(find . -type f ! -name 'MANIFEST.sha256*' | sed 's|^\./||' | sort) <(sed 's/^[0-9a-f]*  //' MANIFEST.sha256 | sort)"
check "openssl cms verifies the manifest's signature under the root" openssl cms -verify -binary -inform DER \
	-in "$K/MANIFEST.sha256.sig" -content "$K/MANIFEST.sha256" -CAfile "$A/out/root.pem" -out /dev/null
check "the source archive's SHA-256 is the one in SHA256SUMS" bash -c "cd '$K/tool' && sha256sum --quiet -c SHA256SUMS"
check "debian-packages.txt pins exact versions" grep -qE '^libssl-dev=[0-9]' "$K/tool/debian-packages.txt"
check "KIT.json names the blob, its backup and the internal record" jq -e \
	'.backup.blob.path == "media/backup/root-backup.blob" and (.backup.blob.backup_id | length) > 0 and .backup.internal_record.path == "internal/backup-internal.json"' "$K/KIT.json"
out=$("$CEREMONY" backup kit verify "$K" 2>&1)
check "kit verify: intact, anchored on its own root (said)" bash -c "printf '%s' \"\$1\" | grep -q 'Kit intact' && printf '%s' \"\$1\" | grep -q 'anchored on the kit.s own root.pem'" _ "$out"
expect_ok "kit verify --root with the right root" "$CEREMONY" backup kit verify --root "$A/out/root.pem" "$K"

# Refusals before any PIN: nothing written.
expect_fail "an existing folder is refused" 1 "exists: a kit is written to a new folder; nothing was written" \
	kit "$K" "$A/media/backup/root-backup.blob" "$A/internal/backup-internal.json"
printf 'not a blob' >"$T/other.blob"
expect_fail "a blob the history never made is refused" 1 "not one the history made" \
	kit "$T/kit-x" "$T/other.blob" "$A/internal/backup-internal.json"
check "nothing was written for the refused kit" bash -c "! ls -d '$T'/kit-x* 2>/dev/null"
expect_fail "another internal record is refused" 1 "internal record is not the one backup" \
	kit "$T/kit-x" "$A/media/backup/root-backup.blob" "$T/ceremony.yaml"
expect_fail "a toolkit folder without the toolkit is refused" 1 "no toolkit there" \
	cer backup kit --out "$T/kit-x" --blob "$A/media/backup/root-backup.blob" --internal-record "$A/internal/backup-internal.json" \
	--root "$A/out/root.pem" --history "$A/transcripts" --toolkit "$T" --site-config "$T/ceremony.yaml" \
	--token root-hsm --key signing --cert "$SIGNER"
check "still nothing written" bash -c "! ls -d '$T'/kit-x* 2>/dev/null"

# A rekey supersedes the first blob: a kit of it is refused; the new one is the kit.
TR2=$A/transcripts/0002-rekey.jsonl
backup "$A/media/backup/root-backup-2.blob" "$A/internal/backup-internal-2.json" "$TR2" rekey \
	--old-blob "$A/media/backup/root-backup.blob" --previous "$TR1" || fatal "backup rekey"
out=$(kit "$T/kit-x" "$A/media/backup/root-backup.blob" "$A/internal/backup-internal.json" 2>&1)
check "an unsealed transcript in the history is refused" bash -c "printf '%s' \"\$1\" | grep -q 'history: .*not sealed\|history: .*unsealed'" _ "$out"
cer transcript seal --token root-hsm --key signing --cert "$SIGNER" "$TR2" >/dev/null || fatal "seal 2"
expect_fail "a superseded blob is refused" 1 "superseded by backup" \
	kit "$T/kit-x" "$A/media/backup/root-backup.blob" "$A/internal/backup-internal.json"
check "no partial kit is left" bash -c "! ls -d '$T'/kit-x* 2>/dev/null"
K2=$T/kit-2
expect_ok "the rekeyed blob makes a kit" kit "$K2" "$A/media/backup/root-backup-2.blob" "$A/internal/backup-internal-2.json"
check "kit 2 carries only the current blob" bash -c "[ -f '$K2/media/backup/root-backup-2.blob' ] && [ ! -e '$K2/media/backup/root-backup.blob' ]"
expect_ok "kit 2 verifies" "$CEREMONY" backup kit verify "$K2"

# Tampering: each named, exit non-zero.
tamper() { rm -rf "$T/t" && cp -a "$K2" "$T/t"; }
tamper; printf 'x' >>"$T/t/site/ceremony.yaml"
expect_fail "verify: a changed file is found" 1 "differ from its signed manifest" "$CEREMONY" backup kit verify "$T/t"
tamper; echo extra >"$T/t/extra.txt"
expect_fail "verify: an added file is found" 1 "differ from its signed manifest" "$CEREMONY" backup kit verify "$T/t"
tamper; rm "$T/t/guides/recovery.html"
expect_fail "verify: a removed file is found" 1 "differ from its signed manifest" "$CEREMONY" backup kit verify "$T/t"
tamper; awk 'NR==1{c=substr($0,1,1); $0=(c=="0"?"1":"0") substr($0,2)} 1' "$T/t/MANIFEST.sha256" >"$T/t/m" && mv "$T/t/m" "$T/t/MANIFEST.sha256"
expect_fail "verify: an edited manifest fails its signature" 1 "MANIFEST.sha256.sig" "$CEREMONY" backup kit verify "$T/t"
make_root other-hsm other ec-p256 "$T/other.jsonl" "$T/other.pem" "/CN=Other Root"
expect_fail "verify: another root is refused" 1 "is not $T/other.pem" "$CEREMONY" backup kit verify --root "$T/other.pem" "$K2"
# Hostile kits: refused before any of their files is read, never hanging on a FIFO.
tamper; rm "$T/t/out/root.pem" && mkfifo "$T/t/out/root.pem"
expect_fail "verify: a FIFO in the kit is refused (no hang)" 1 "neither a file nor a folder" timeout 20 "$CEREMONY" backup kit verify "$T/t"
tamper; rm "$T/t/out/root.pem" && ln -s "$T/other.pem" "$T/t/out/root.pem"
out=$("$CEREMONY" backup kit verify "$T/t" 2>&1)
check "verify: a symlink in the kit is refused before it is read" bash -c "printf '%s' \"\$1\" | grep -q 'links are not followed' && ! printf '%s' \"\$1\" | grep -q 'root certificate sha256'" _ "$out"
tamper; jq '.root.path = "../kit-2/out/root.pem"' "$T/t/KIT.json" >"$T/kj" && mv "$T/kj" "$T/t/KIT.json"
expect_fail "verify: a KIT.json path out of the kit is refused" 1 "no path inside the kit" "$CEREMONY" backup kit verify "$T/t"

# --- The disaster: the primary site is gone. Left: the kit and k = 2 cards.
rm -rf "$A" "$T/t" "$K" "$T/ceremony.yaml"
softhsm2-util --delete-token --token root-hsm >/dev/null 2>&1 || fatal "delete the root token"
softhsm2-util --delete-token --token card-3 >/dev/null 2>&1 || fatal "delete card 3"
check "only the kit and two cards are left" bash -c "! pkcs11-tool --module '$CEREMONY_MODULE' -L 2>/dev/null | grep -qE 'root-hsm|card-3'"
# A fresh machine builds the tool from the kit's source archive (its SHA-256 checked first).
F=$T/fresh
mkdir -p "$F/ceremony"
expect_ok "the kit's source archive matches SHA256SUMS at the new site" bash -c "cd '$K2/tool' && sha256sum --quiet -c SHA256SUMS"
tar -C "$F/ceremony" -xzf "$K2"/tool/ceremony-*-src.tar.gz || fatal "unpack the source archive"
if env -u SANITIZE -u BUILD make -C "$F/ceremony" -j2 -s all SANITIZE=0 BUILD=build >"$F/build.log" 2>&1; then pass "the tool builds from the kit's source archive"
else fail "the tool builds from the kit's source archive" "$(tail -20 "$F/build.log")"; finish; fi
NEW=$F/ceremony/build/ceremony
check "the rebuilt tool runs" "$NEW" --help
# The DR site's archive starts from the kit: history, root, blob, internal record.
S=$F/site
mkdir -p "$S"
cp -a "$K2/transcripts" "$K2/out" "$K2/media" "$K2/internal" "$S/"
BLOB=$S/$(jq -r .backup.blob.path "$K2/KIT.json")
LAST=$S/transcripts/$(ls "$S/transcripts" | grep '\.jsonl$' | sort | tail -n1)
DR=$S/transcripts/0003-dr.jsonl
ncer() { "$NEW" --pin-source "file:$T/pins/user" --so-pin-source "file:$T/pins/so" "$@"; }
expect_ok "kit verify with the rebuilt tool" "$NEW" backup kit verify --root "$S/out/root.pem" "$K2"
expect_ok "a new HSM token at the backup site" ncer token init --label backup-hsm --transcript "$DR" --previous "$LAST" --ceremony dr
expect_ok "recover the root from two cards" "$NEW" --pin-source "file:$T/pins/user" --so-pin-source "file:$T/pins/so" backup recover --test-cost --token backup-hsm --blob "$BLOB" \
	--root "$S/out/root.pem" --cards card-1,card-2 --card-pin-sources "$(pins 1 2)" --passphrase-sources "$(passes 1 2)" \
	--challenge-out "$S/out/challenge.txt" --signature-out "$S/out/challenge.sig" --transcript "$DR"
check "openssl proves the recovered key is the root's" bash -c "openssl x509 -in '$S/out/root.pem' -pubkey -noout >'$F/root.pub' && \
	openssl dgst -sha384 -verify '$F/root.pub' -signature '$S/out/challenge.sig' '$S/out/challenge.txt'"
# The root HSM's ceremony-signing key is gone with the site: the recovered root certifies
# a new one (the profile from the kit's source), which seals the DR ceremony.
mkdir -p "$S/profiles" && cp "$F/ceremony/ceremony-scripts/profiles/ceremony-signer.yaml" "$S/profiles/"
expect_ok "the recovered root certifies a new ceremony-signing key" ncer cert signer --token backup-hsm --key root \
	--issuer "$S/out/root.pem" --profile "$S/profiles/ceremony-signer.yaml" --label signing \
	--out "$S/out/dr-signer.pem" --transcript "$DR"
expect_ok "the DR ceremony is sealed by that key" ncer transcript seal --token backup-hsm --key signing \
	--cert "$S/out/dr-signer.pem" "$DR"
# The kit carries the current blob only, so the superseded ones' hashes cannot be
# compared: a partial audit, which audit says rather than marking it ✓. The history was
# made at the test Argon2id cost (--test-cost above): the auditor says so too.
out=$("$NEW" audit --partial --allow-test-cost --root "$S/out/root.pem" "$S/transcripts" 2>&1)
rc=$?
expect_eq "the audit of the history continued by the DR ceremony holds" 0 "$rc"
check "... as far as the kit's files allow, and says so" bash -c "printf '%s' \"\$1\" | grep -q 'AS FAR AS CHECKED (partial audit, --partial)'" _ "$out"
check "the audit names the DR ceremony in the one chain" bash -c "printf '%s' \"\$1\" | grep -q '0003-dr.jsonl'" _ "$out"
finish

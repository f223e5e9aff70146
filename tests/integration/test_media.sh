#!/usr/bin/env bash
# The medium's signed manifest (issue 9.1): the tool signs only the MANIFEST.sha256 it
# builds itself from what the ceremony wrote; one planted on the medium while the
# ceremony is stopped is refused, and nothing is signed. The signature is the
# ceremony-signing key's and passes openssl's default purpose checks.
. "$(dirname "$0")/lib.sh"
setup_hsm
TR0=$T/transcripts/0001-root.jsonl
make_root root-hsm root ec-p384 "$TR0" "$T/out/root.pem"
cer cert signer --token root-hsm --key root --issuer "$T/out/root.pem" \
	--profile "$T/profiles/ceremony-signer.yaml" --label signing \
	--out "$T/out/signer.pem" --transcript "$TR0" >/dev/null || fatal "cert signer"
M=$T/medium
mkdir -p "$M/csr"
printf 'a request\n' >"$M/csr/in.csr"
cat >"$T/m.yaml" <<YAML
ceremony: medium
title: a ceremony with a medium
vars: {m: "$M"}
roles: {CA: Administrator}
media: \${m}
seal: {role: CA, token: root-hsm, key: signing, cert: "$T/out/signer.pem"}
acts:
  - title: a
    steps:
      - {role: CA, say: first, confirm: ok}
      - {role: CA, say: second, confirm: go on}
YAML
printf 'confirm_all: yes\nroles:\n  CA: {name: A, pin: "file:%s"}\n' "$T/pins/user" >"$T/yes.yaml"
printf 'confirm_all: yes\nroles:\n  CA: {name: A, pin: "file:%s"}\nsteps:\n  "1.2": {confirm: "no", happened: "stopped", decision: abort, decided_by: CA}\n' \
	"$T/pins/user" >"$T/stop.yaml"
TR=$T/transcripts/0002-medium.jsonl
expect_fail "the ceremony stops at step 1.2" 1 'stopped at step 1.2' \
	"$CEREMONY" run "$T/m.yaml" --answers "$T/stop.yaml" --transcript "$TR"
check "the medium was hashed at the start" grep -q '"action":"media.manifest".*csr/in.csr' "$TR"

# While it is stopped, someone plants a manifest of their own on the medium.
printf '%064d  firmware.bin\n' 0 >"$M/MANIFEST.sha256"
cp "$M/MANIFEST.sha256" "$T/planted"
out=$("$CEREMONY" run "$T/m.yaml" --answers "$T/yes.yaml" --transcript "$TR" 2>&1)
rc=$?
check "a planted MANIFEST.sha256 is refused at the end" bash -c "[ $rc -eq 1 ] && printf '%s' \"\$1\" | \
	grep -q 'MANIFEST.sha256 is not the manifest of what this ceremony wrote' && printf '%s' \"\$1\" | grep -q 'not complete'" _ "$out"
check "... nothing was signed" test ! -e "$M/MANIFEST.sha256.sig"
check "... the planted file is left as it was" cmp -s "$M/MANIFEST.sha256" "$T/planted"
check "... no media.sign was recorded" bash -c "! grep -q '\"action\":\"media.sign\"' '$TR'"
expect_fail "media sign by hand refuses it too" 1 'is not the manifest of what this ceremony wrote' \
	cer media sign --token root-hsm --key signing --cert "$T/out/signer.pem" --transcript "$TR" "$M"

# Without the planted file, the ceremony ends: the tool writes its own manifest.
rm "$M/MANIFEST.sha256"
printf 'written by the ceremony\n' >"$M/out.pem"
expect_ok "the resumed ceremony ends and signs its own manifest" \
	"$CEREMONY" run "$T/m.yaml" --answers "$T/yes.yaml" --transcript "$TR"
check "the manifest lists what the ceremony wrote, not what was there" bash -c \
	"grep -q '  out.pem\$' '$M/MANIFEST.sha256' && ! grep -q 'csr/in.csr' '$M/MANIFEST.sha256'"
check "sha256sum -c accepts it" bash -c "cd '$M' && sha256sum -c --quiet MANIFEST.sha256"
check "openssl cms -verify accepts its signature with the default purpose" openssl cms -verify -binary -inform DER \
	-in "$M/MANIFEST.sha256.sig" -content "$M/MANIFEST.sha256" -CAfile "$T/out/root.pem" -out /dev/null
check "media.sign is recorded with the manifest and its signature" grep -q '"action":"media.sign".*MANIFEST.sha256.sig' "$TR"
expect_ok "the transcript verifies against the root" "$CEREMONY" transcript verify --root "$T/out/root.pem" "$TR"

# A transcript that never hashed this medium cannot have its manifest signed.
mkdir -p "$T/other"
printf 'x\n' >"$T/other/f"
expect_fail "media sign needs the transcript's record of the medium" 1 'records no media.manifest of' \
	cer media sign --token root-hsm --key signing --cert "$T/out/signer.pem" --transcript "$TR0" "$T/other"
check "... and writes nothing" test ! -e "$T/other/MANIFEST.sha256"
finish

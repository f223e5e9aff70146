#!/usr/bin/env bash
# Offline readers and hostile files (issue 9.7): transcript verify, audit and report
# never hang on a FIFO or a device a record, a .sig or a countersignature names; they
# check the seal before following any path a record names; they follow recorded paths
# only inside the archive (no symlink out of it); a recorded path that is absolute or climbs
# with ".." is refused by name (issue 10.7). Every
# command runs under `timeout`: a hang is a failure, not a stuck test.
. "$(dirname "$0")/lib.sh"
setup_hsm
A=$T/archive
mkdir -p "$A/transcripts" "$A/out"
TO="timeout 20"
# A transcript with a valid hash chain whose records name the files we choose.
forge() { # FILE PATH... : one record per path, as outputs
	python3 - "$@" <<'PY'
import hashlib, json, os, sys
out, paths = sys.argv[1], sys.argv[2:]
prev = os.urandom(32).hex()
lines = []
recs = [{"action": "ceremony.begin", "details": {"previous": None}}] + \
       [{"action": "cert.root", "outputs": [{"path": p, "sha256": "0" * 64}]} for p in paths]
for i, r in enumerate(recs, 1):
    rec = {"seq": i, "time": "2026-11-30T10:00:00Z", "ceremony": "forged", "action": r["action"],
           "prev": prev}
    rec.update({k: v for k, v in r.items() if k != "action"})
    line = json.dumps(rec, separators=(",", ":"))
    lines.append(line)
    prev = hashlib.sha256(line.encode()).hexdigest()
open(out, "w").write("\n".join(lines) + "\n")
PY
}
mkfifo "$A/out/fifo"
ln -s /etc/passwd "$A/out/passwd-link"
TR=$A/transcripts/forged.jsonl
forge "$TR" out/fifo
expect_fail "an unsealed transcript naming a FIFO is refused before the FIFO is opened" 1 'not sealed' \
	$TO "$CEREMONY" transcript verify "$TR"
expect_fail "with --allow-unsealed the FIFO is refused, not waited on" 1 'out/fifo: not a regular file' \
	$TO "$CEREMONY" transcript verify --allow-unsealed "$TR"
# Issue 10.7: recorded paths are relative to the archive; an absolute or climbing one is a
# hostile (or foreign) transcript: refused with its line, sealed or not, never followed.
forge "$TR.2" /dev/zero
mv "$TR.2" "$A/transcripts/zero.jsonl"
expect_fail "an absolute path (/dev/zero) is refused by name, not followed" 1 \
	'zero.jsonl line 2: a record names a file by "/dev/zero", which is not a path relative to the CA.s archive' \
	$TO "$CEREMONY" transcript verify --allow-unsealed "$A/transcripts/zero.jsonl"
forge "$A/transcripts/up.jsonl" ../../../../../../../etc/passwd
out=$($TO "$CEREMONY" transcript verify --allow-unsealed "$A/transcripts/up.jsonl" 2>&1)
rc=$?
check "a path climbing out of the archive is refused by name" bash -c "[ $rc -eq 1 ] && \
	printf '%s' \"\$1\" | grep -q 'up.jsonl line 2: a record names a file by \"../../../../../../../etc/passwd\", which is not a path relative'" _ "$out"
check "... and nothing of /etc/passwd's hash is printed" bash -c "! printf '%s' \"\$1\" | grep -q \"\$(sha256sum /etc/passwd | cut -c1-16)\"" _ "$out"
mkdir -p "$A/hostile"
cp "$A/transcripts/up.jsonl" "$A/hostile/"
expect_fail "audit refuses the climbing path too, naming file and line" 1 'up.jsonl line 2: a record names a file by "../../../../../../../etc/passwd"' \
	$TO "$CEREMONY" audit --allow-unanchored --partial "$A/hostile"
rm -r "$A/hostile"
forge "$A/transcripts/link.jsonl" out/passwd-link
out=$($TO "$CEREMONY" transcript verify --allow-unsealed "$A/transcripts/link.jsonl" 2>&1)
rc=$?
check "a symlink out of the archive is not followed" bash -c "[ $rc -eq 0 ] && \
	printf '%s' \"\$1\" | grep -q 'passwd-link leads out of the archive (not followed)' && \
	printf '%s' \"\$1\" | grep -q '1 outside the archive (not followed)'" _ "$out"
check "... and nothing of /etc/passwd's hash is printed" bash -c "! printf '%s' \"\$1\" | grep -q \"\$(sha256sum /etc/passwd | cut -c1-16)\"" _ "$out"

# A real, sealed transcript whose .sig or countersignature is a FIFO.
TR1=$A/transcripts/0001-root.jsonl
cp -r "$T/profiles" "$A/profiles"
new_token root-hsm "$TR1"
cer key generate --token root-hsm --label root --type ec-p384 --transcript "$TR1" >/dev/null || fatal "key generate"
cer cert root --token root-hsm --key root --profile "$A/profiles/root.yaml" --subject "/CN=Readers Root" \
	--out "$A/out/root.pem" --transcript "$TR1" >/dev/null || fatal "cert root"
C=$A/transcripts/0002-copy.jsonl
cp "$TR1" "$C"
mkfifo "$C.sig"
expect_fail "a .sig that is a FIFO is refused, not waited on" 1 'jsonl.sig: not a regular file' \
	$TO "$CEREMONY" transcript verify --root "$A/out/root.pem" "$C"
rm "$C.sig"
cer cert signer --token root-hsm --key root --issuer "$A/out/root.pem" --profile "$A/profiles/ceremony-signer.yaml" \
	--label signing --out "$A/out/signer.pem" --transcript "$TR1" >/dev/null || fatal "cert signer"
cer transcript seal --token root-hsm --key signing "$TR1" >/dev/null || fatal "seal"
mkfifo "$TR1.countersig-IW"
expect_fail "a countersignature that is a FIFO is refused, not waited on" 1 'countersig-IW: not a regular file' \
	$TO "$CEREMONY" transcript verify --root "$A/out/root.pem" "$TR1"
rm "$C" "$TR" "$A/transcripts/zero.jsonl" "$A/transcripts/up.jsonl" "$A/transcripts/link.jsonl"
expect_fail "audit refuses it too, without hanging" 1 'countersig-IW: not a regular file' \
	$TO "$CEREMONY" audit --root "$A/out/root.pem" "$A/transcripts"
rm "$TR1.countersig-IW"
expect_ok "the sealed transcript verifies once the FIFO is gone" $TO "$CEREMONY" transcript verify --root "$A/out/root.pem" "$TR1"
# A PIN source that is a FIFO is refused at once (issue 9.11), one readable by others too.
mkfifo "$T/pins/fifo"
expect_fail "a PIN file that is a FIFO is refused, not waited on" 1 'not a regular file' \
	$TO "$CEREMONY" --pin-source "file:$T/pins/fifo" key show --token root-hsm --label root
printf 'user-pin-1234' >"$T/pins/open"
chmod 644 "$T/pins/open"
expect_fail "a PIN file others can read is refused" 1 'may be read by group or others \(mode 0644\); chmod 600 it' \
	$TO "$CEREMONY" --pin-source "file:$T/pins/open" key show --token root-hsm --label root
chmod 600 "$T/pins/open"
expect_ok "the same file, private, is accepted" $TO "$CEREMONY" --pin-source "file:$T/pins/open" key show --token root-hsm --label root
finish

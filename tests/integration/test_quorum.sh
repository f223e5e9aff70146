#!/usr/bin/env bash
# The quorum (docs/quorum.md): the policy fixed at root key generation; every
# refusal before the HSM signs (too few, the same person twice, the wrong role,
# an unregistered officer, a wrong card PIN, a policy change without the old
# quorum) with nothing written; approvals checked with openssl; and audit
# naming each forgery in a copied, re-chained and re-sealed history.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../../ceremony-scripts/demo-site.sh"
setup_hsm
make_site "$T/site"
S=$SITE/transcripts
P=$SITE/pins
TR=$S/0002-signing.jsonl

expect_ok "root key generation registers the officers and fixes the policy" run_script root-key-generation 0001-root-keygen
check "the policy is recorded in the root key generation transcript" grep -q '"action":"quorum.policy"' "$S/0001-root-keygen.jsonl"
check "four Key Executives (the officers) and the witness are registered" test "$(grep -c '"action":"witness.register"' "$S/0001-root-keygen.jsonl")" -eq 5
show=$("$CEREMONY" quorum show --history "$S" 2>&1)
check "quorum show prints the policy and the officers" bash -c "printf '%s' '$show' | grep -q 'issue-ca *2 of KE' && printf '%s' '$show' | grep -q 'KE4 *Person KE4'"
# The approval policy is public and separate: it names neither k nor n of the backup.
check "the policy record carries no threshold or share count" bash -c "! grep '\"action\":\"quorum.policy\"' '$S/0001-root-keygen.jsonl' | grep -qiE 'threshold|shares|member'"

sign() { # OUT [options]: cert sign of factory-1 into the signing transcript
	local out=$1
	shift
	"$CEREMONY" --config "$SITE_CONFIG" --pin-source "file:$P/CA.pin" cert sign --token root-hsm --key root \
		--issuer "$SITE/out/root.pem" --profile "$SITE_PROFILES/intermediate-ca.yaml" \
		--csr "$SITE/media/csr/factory-1.csr" --out "$out" --transcript "$TR" \
		--expect-file "$(pins_for "$SITE/media/csr/factory-1.csr")" \
		$([ -e "$TR" ] || echo --previous "$S/0001-root-keygen.jsonl") "$@"
}
nothing_written() { test ! -e "$1" -a ! -e "${1%.pem}-chain.pem" && ! grep -q '"action":"cert.issue"' "$TR"; }

expect_fail "cert sign with no approvals is refused" 1 'issue-ca needs approvals of 2 of KE .*none were given.*nothing was signed' \
	sign "$T/r1.pem"
check "... nothing was written or signed" nothing_written "$T/r1.pem"
check "... and the refusal is recorded" grep -q '"action":"quorum.refused"' "$TR"
expect_fail "one approver of two is refused" 1 'needs approvals of 2 of KE; 1 approver \(KE1\) gives only 1 of KE; nothing was signed' \
	sign "$T/r2.pem" --approvers KE1 --approver-pin-sources "file:$P/KE1.pin"
check "... nothing was written" nothing_written "$T/r2.pem"
expect_fail "the same person twice is refused" 1 'named twice: approvals must come from distinct people' \
	sign "$T/r3.pem" --approvers KE1,KE1 --approver-pin-sources "file:$P/KE1.pin,file:$P/KE1.pin"
check "... nothing was written" nothing_written "$T/r3.pem"
expect_fail "an approver of the wrong role is refused" 1 '2 approvers \(IW, KE1\) give only 1 of KE' \
	sign "$T/r4.pem" --approvers IW,KE1 --approver-pin-sources "file:$P/IW.pin,file:$P/KE1.pin"
check "... nothing was written" nothing_written "$T/r4.pem"
expect_fail "an unregistered officer is refused" 1 'KE6 is not a registered officer' \
	sign "$T/r5.pem" --approvers KE1,KE6 --approver-pin-sources "file:$P/KE1.pin,file:$P/KE6.pin"
check "... nothing was written" nothing_written "$T/r5.pem"
expect_fail "a wrong card PIN refuses the approval" 1 "KE2's approval: .*(wrong PIN|PIN).*nothing was signed" \
	sign "$T/r6.pem" --approvers KE1,KE2 --approver-pin-sources "file:$P/KE1.pin,file:$T/pins/wrong"
check "... nothing was written" nothing_written "$T/r6.pem"
expect_fail "approver PIN sources must match the approvers" 2 'has 1 entries for 2 approvers' \
	sign "$T/r7.pem" --approvers KE1,KE2 --approver-pin-sources "file:$P/KE1.pin"

expect_ok "two Key Executives' approvals let the root sign" \
	sign "$SITE/out/f1.pem" --approvers KE3,KE1 --approver-pin-sources "file:$P/KE3.pin,file:$P/KE1.pin"
check "openssl verifies the certificate" openssl verify -x509_strict -CAfile "$SITE/out/root.pem" "$SITE/out/f1.pem"
check "the approvals are recorded just before the certificate" test \
	"$(jq -r .action "$TR" | grep -E '^(quorum.approve|cert.issue)$' | tr '\n' ' ')" = "quorum.approve cert.issue "

# Each approval checks with tools we did not write: the statement is the exact
# JSON signed (ECDSA P-256, SHA-256), the TBS hash is the certificate's own.
rec=$(grep '"action":"quorum.approve"' "$TR" | tail -1)
printf '%s' "$rec" | jq -j '.details.quorum.approvals[0].statement' >"$T/stmt.json"
printf '%s' "$rec" | jq -r '.details.quorum.approvals[0].signature' | xxd -r -p >"$T/stmt.sig"
spki=$(grep '"action":"witness.register"' "$S/0001-root-keygen.jsonl" | jq -r 'select(.details.witness.role=="KE3") | .details.witness.spki')
printf '%s' "$spki" | xxd -r -p | openssl pkey -pubin -inform DER -out "$T/ke3.pem" 2>/dev/null
check "the first approver is KE3" test "$(jq -r .role "$T/stmt.json")" = KE3
check "openssl dgst verifies KE3's approval with the registered key" \
	openssl dgst -sha256 -verify "$T/ke3.pem" -signature "$T/stmt.sig" "$T/stmt.json"
check "the statement is canonical JSON (jq -cS gives the same bytes)" bash -c "jq -cSj . '$T/stmt.json' | cmp -s - '$T/stmt.json'"
tbs=$(python3 - "$SITE/out/f1.pem" <<'PY'
import base64, hashlib, sys
pem = open(sys.argv[1]).read()
der = base64.b64decode("".join(l for l in pem.splitlines() if not l.startswith("-----")))
def tlv(b, i):  # (start of content, end) of the DER element at i
    n = b[i + 1]
    if n < 0x80:
        return i + 2, i + 2 + n
    k = n & 0x7F
    return i + 2 + k, i + 2 + k + int.from_bytes(b[i + 2:i + 2 + k], "big")
start, _ = tlv(der, 0)
_, end = tlv(der, start)
print(hashlib.sha256(der[start:end]).hexdigest())
PY
)
check "the approved tbs_sha256 is the SHA-256 of the certificate's own TBSCertificate" test -n "$tbs" -a "$(jq -r .tbs_sha256 "$T/stmt.json")" = "$tbs"
check "the statement names the CSR, profile, ceremony and record position" bash -c \
	"test \"\$(jq -r .csr_sha256 '$T/stmt.json')\" = \"\$(sha256sum '$SITE/media/csr/factory-1.csr' | cut -c1-64)\" && \
	 test \"\$(jq -r .profile_sha256 '$T/stmt.json')\" = \"\$(sha256sum '$SITE_PROFILES/intermediate-ca.yaml' | cut -c1-64)\" && \
	 test \"\$(jq -r .position '$T/stmt.json')\" = \"\$(printf '%s' '$rec' | jq -r .seq)\" && \
	 test \"\$(jq -r .operation '$T/stmt.json')\" = issue-ca"

seal() { "$CEREMONY" --pin-source "file:$P/CA.pin" transcript seal --token root-hsm --key ceremony-signing --cert "$SITE/out/ceremony-signer.pem" "$1"; }
expect_ok "the signing transcript is sealed" seal "$TR"
out=$("$CEREMONY" audit --allow-test-cost --root "$SITE/out/root.pem" "$S" 2>&1)
check "audit accepts the approved history" test $? -eq 0
check "audit reports the approvals" bash -c "printf '%s' '$out' | grep -q 'quorum ✓ 1 approval set checked; 1 root operation approved' && printf '%s' '$out' | grep -q 'approval sets by KE1 KE2 IW KE3'"
check "transcript verify checks the quorum too" bash -c \
	"'$CEREMONY' transcript verify --root '$SITE/out/root.pem' '$TR' | grep -q 'quorum ✓ 1 approval set checked'"

# Forgeries in a copy of the history, each re-chained and re-sealed with the
# ceremony-signing key (what an insider holding the HSM could do): audit names each one.
openssl ecparam -name prime256v1 -genkey -noout -out "$T/mallory.key" 2>/dev/null
forge() { # NAME MODE: copy the site, edit 0002-signing.jsonl, re-chain, re-seal
	local d=$T/forged-$1
	cp -r "$SITE" "$d"
	rm -f "$d/transcripts/0002-signing.jsonl.sig"
	python3 - "$d/transcripts/0002-signing.jsonl" "$2" "$T/mallory.key" <<'PY' || return 1
import hashlib, json, subprocess, sys
path, mode, key = sys.argv[1:4]
recs = [json.loads(l) for l in open(path)]
ai = next(i for i, r in enumerate(recs) if r["action"] == "quorum.approve")
q = recs[ai]["details"]["quorum"]
def canon(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
def mallory():  # a key nobody registered, as DER SPKI
    return subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"],
                          capture_output=True, check=True).stdout
def sign(stmt):
    return subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=stmt.encode(),
                          capture_output=True, check=True).stdout.hex()
if mode == "other-bytes":      # KE3's approval now states other TBS bytes
    s = json.loads(q["approvals"][0]["statement"])
    s["tbs_sha256"] = "00" * 32
    q["approvals"][0]["statement"] = canon(s)
elif mode == "missing-approver":
    del q["approvals"][1]
elif mode == "bad-signature":
    sig = q["approvals"][1]["signature"]
    q["approvals"][1]["signature"] = sig[:-2] + ("00" if sig[-2:] != "00" else "01")
elif mode == "no-approval":    # the certificate without its approvals record
    del recs[ai]
elif mode in ("unregistered", "registered-late"):
    spki = mallory()
    md = hashlib.sha256(spki).hexdigest()
    s = json.loads(q["approvals"][1]["statement"])
    s["role"], s["signer_spki_sha256"] = "KE6", md
    q["approvals"][1] = {"role": "KE6", "name": "Mallory", "card": "none",
                         "signer_spki_sha256": md, "statement": canon(s),
                         "signature": sign(canon(s))}
    if mode == "registered-late":  # registered after the approval it gave
        last = recs[-1]
        recs.append({"seq": 0, "time": last["time"], "ceremony": last["ceremony"],
                     "action": "witness.register", "inputs": [], "outputs": [],
                     "details": {"witness": {"role": "KE6", "name": "Mallory",
                                             "card": {"label": "m", "serial": "1", "model": "m", "manufacturer": "m"},
                                             "key": {"label": "m", "id": "00", "type": "ec-p256", "generated_now": True, "evidence": {}},
                                             "spki": spki.hex(), "spki_sha256": md}}, "prev": ""})
prev = recs[0]["prev"]
with open(path, "w") as f:
    for i, r in enumerate(recs):
        r["seq"], r["prev"] = i + 1, prev
        line = json.dumps(r, separators=(",", ":"), ensure_ascii=True)
        f.write(line + "\n")
        prev = hashlib.sha256(line.encode()).hexdigest()
PY
	seal "$d/transcripts/0002-signing.jsonl" >/dev/null 2>&1
}
audit_names() { # NAME MODE PATTERN
	if ! forge "$2" "$2"; then
		fail "$1: the forgery was made" "python or seal failed"
		return
	fi
	local f=$T/forged-$2/transcripts/0002-signing.jsonl
	check "$2: the forged copy's seal verifies (openssl cms)" openssl cms -verify -binary -inform DER \
		-in "$f.sig" -content "$f" -CAfile "$SITE/out/root.pem" -out /dev/null
	expect_fail "$1" 1 "$3" "$CEREMONY" audit --allow-test-cost --root "$SITE/out/root.pem" "$T/forged-$2/transcripts"
}
audit_names "audit names an approval for other bytes" other-bytes 'approval 1 by KE3 is for other bytes or another operation \(tbs_sha256 differs\)'
audit_names "audit names a missing approver" missing-approver 'issue-ca needs approvals of 2 of KE; 1 approver \(KE3\) gives only 1 of KE'
audit_names "audit names a forged signature" bad-signature 'approval 2 by KE1: the signature does not verify with the registered key'
audit_names "audit names a certificate whose approvals were removed" no-approval 'the certificate \(issue-ca\) carries no approvals of its own TBS'
audit_names "audit names an approval by an unregistered key" unregistered 'approval 2 \(KE6\): key [0-9a-f]{16}\.\.\. is not a registered officer'
audit_names "audit names an approver registered after the fact" registered-late 'approval 2 \(KE6\): .*registered only after this approval'

# A policy change is itself approved by the quorum in force (3 of KE and the IW).
PT=$S/0003-policy.jsonl
sed 's/issue-ca:         \[{role: KE, approvals: 2}\]/issue-ca:         [{role: KE, approvals: 3}]/' \
	ceremony-scripts/quorum-policy.yaml >"$T/policy2.yaml"
policy() { "$CEREMONY" --config "$SITE_CONFIG" --pin-source "file:$P/CA.pin" quorum policy --policy "$T/policy2.yaml" \
	--transcript "$PT" $([ -e "$PT" ] || echo --previous "$TR") "$@"; }
expect_fail "a policy change without approvals is refused" 1 'policy-change needs approvals of 3 of KE and 1 of IW .*none were given' policy
check "... no policy was recorded" bash -c "! grep -q '\"action\":\"quorum.policy\"' '$PT'"
expect_fail "a policy change without the old quorum is refused" 1 'policy-change needs approvals of 3 of KE and 1 of IW; 3 approvers \(KE1, KE2, IW\) give only 2 of KE' \
	policy --approvers KE1,KE2,IW --approver-pin-sources "file:$P/KE1.pin,file:$P/KE2.pin,file:$P/IW.pin"
check "... no policy was recorded" bash -c "! grep -q '\"action\":\"quorum.policy\"' '$PT'"
expect_ok "the quorum in force approves a policy change" \
	policy --approvers KE1,KE2,KE4,IW --approver-pin-sources "file:$P/KE1.pin,file:$P/KE2.pin,file:$P/KE4.pin,file:$P/IW.pin"
expect_ok "the policy-change transcript is sealed" seal "$PT"
check "quorum show has the new policy" bash -c "'$CEREMONY' quorum show --history '$S' | grep -q 'issue-ca *3 of KE'"
check "audit accepts the approved change" "$CEREMONY" audit --allow-test-cost --root "$SITE/out/root.pem" "$S"
# The same change, recorded without approvals, in a forged copy.
d=$T/forged-policy
cp -r "$SITE" "$d"
rm -f "$d/transcripts/0003-policy.jsonl.sig"
python3 - "$d/transcripts/0003-policy.jsonl" <<'PY'
import hashlib, json, sys
path = sys.argv[1]
recs = [json.loads(l) for l in open(path) if '"action":"quorum.approve"' not in l]
prev = recs[0]["prev"]
with open(path, "w") as f:
    for i, r in enumerate(recs):
        r["seq"], r["prev"] = i + 1, prev
        line = json.dumps(r, separators=(",", ":"), ensure_ascii=True)
        f.write(line + "\n")
        prev = hashlib.sha256(line.encode()).hexdigest()
PY
seal "$d/transcripts/0003-policy.jsonl" >/dev/null 2>&1
expect_fail "audit names a policy change without the old quorum" 1 'the quorum policy was changed without the approval of the quorum then in force' \
	"$CEREMONY" audit --allow-test-cost --root "$SITE/out/root.pem" "$d/transcripts"

# Officers after the policy: registering and retiring are approved by the quorum.
OT=$S/0004-officers.jsonl
in_ot() { "$CEREMONY" --config "$SITE_CONFIG" "$@" --transcript "$OT" $([ -e "$OT" ] || echo --previous "$PT"); }
expect_ok "card 6 is initialised" in_ot --so-pin-source "file:$P/SO.pin" --pin-source "file:$P/KE6.pin" token init --label card-6
register6() { in_ot --pin-source "file:$P/KE6.pin" witness register --token card-6 --label ke6-officer --role KE6 --name "Person KE6" "$@"; }
expect_fail "a new officer without the quorum's approval is refused" 1 'officer-register needs approvals of 2 of KE and 1 of IW .*none were given' register6
check "... and not recorded" bash -c "! grep -q '\"action\":\"witness.register\"' '$OT'"
expect_ok "the quorum approves a new officer" register6 --approvers KE1,KE2,IW \
	--approver-pin-sources "file:$P/KE1.pin,file:$P/KE2.pin,file:$P/IW.pin"
expect_fail "retiring an officer without the quorum is refused" 1 'officer-retire needs approvals of 2 of KE and 1 of IW; 1 approver \(KE1\) gives only 1 of KE' \
	in_ot quorum retire --role KE4 --approvers KE1 --approver-pin-sources "file:$P/KE1.pin"
expect_ok "the quorum, with the new officer, retires KE4" in_ot quorum retire --role KE4 --approvers KE6,KE1,IW \
	--approver-pin-sources "file:$P/KE6.pin,file:$P/KE1.pin,file:$P/IW.pin"
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/f2.key" \
	-subj "/C=DE/O=ACME Devices/CN=ACME Factory 2 IDevID CA" -out "$T/f2.csr" 2>/dev/null
sign2() { in_ot --pin-source "file:$P/CA.pin" cert sign --token root-hsm --key root --issuer "$SITE/out/root.pem" \
	--profile "$SITE_PROFILES/intermediate-ca.yaml" --csr "$T/f2.csr" --expect-file "$(pins_for "$T/f2.csr")" --out "$1" --approvers "$2" --approver-pin-sources "$3"; }
expect_fail "a retired officer's approval is refused" 1 'KE4 is not a registered officer \(or was retired\)' \
	sign2 "$T/r8.pem" KE3,KE4,KE1 "file:$P/KE3.pin,file:$P/KE4.pin,file:$P/KE1.pin"
check "... nothing was written" test ! -e "$T/r8.pem"
expect_fail "the new policy's three Key Executives are needed now" 1 'issue-ca needs approvals of 3 of KE; 2 approvers \(KE6, KE1\) give only 2 of KE' \
	sign2 "$T/r9.pem" KE6,KE1 "file:$P/KE6.pin,file:$P/KE1.pin"
expect_ok "the new officer approves a certificate with two others" \
	sign2 "$SITE/out/f2.pem" KE6,KE1,KE2 "file:$P/KE6.pin,file:$P/KE1.pin,file:$P/KE2.pin"
# A batch is approved once, over the sorted list of its TBS hashes.
mkdir -p "$SITE/batch" "$T/batch-keys" "$SITE/batch-out"
for i in 1 2; do
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$T/batch-keys/m$i.key" \
		-subj "/C=DE/O=ACME Devices/CN=ACME MASA voucher signer $i" -out "$SITE/batch/m$i.csr" 2>/dev/null
done
expect_ok "a batch of two end-entity certificates is approved by two Key Executives" \
	in_ot --pin-source "file:$P/CA.pin" cert sign --token root-hsm --key root --issuer "$SITE/out/root.pem" \
	--profile "$SITE_PROFILES/masa-voucher-signer.yaml" --csr-dir "$SITE/batch" --out-dir "$SITE/batch-out" \
	--approvers KE2,KE3 --approver-pin-sources "file:$P/KE2.pin,file:$P/KE3.pin"
grep '"action":"quorum.approve"' "$OT" | tail -1 >"$T/batch.rec"
check "the batch's statement covers the SHA-256 of its sorted TBS hashes, each a certificate's own" \
	python3 - "$T/batch.rec" "$SITE/batch-out/m1.pem" "$SITE/batch-out/m2.pem" <<'PY'
import base64, hashlib, json, sys
rec = json.loads(open(sys.argv[1]).read())
q = rec["details"]["quorum"]
def tbs_hash(path):
    pem = open(path).read()
    der = base64.b64decode("".join(l for l in pem.splitlines() if not l.startswith("-----")))
    def tlv(b, i):
        n = b[i + 1]
        if n < 0x80:
            return i + 2, i + 2 + n
        k = n & 0x7F
        return i + 2 + k, i + 2 + k + int.from_bytes(b[i + 2:i + 2 + k], "big")
    start, _ = tlv(der, 0)
    _, end = tlv(der, start)
    return hashlib.sha256(der[start:end]).hexdigest()
certs = sorted(tbs_hash(p) for p in sys.argv[2:])
items = sorted(i["tbs_sha256"] for i in q["items"])
combined = hashlib.sha256(b"".join(bytes.fromhex(h) for h in items)).hexdigest()
stmt = json.loads(q["approvals"][0]["statement"])
assert q["operation"] == "issue-ee" and stmt["items"] == 2, stmt
assert certs == items, (certs, items)
assert stmt["tbs_sha256"] == combined == q["tbs_sha256"], (stmt, combined)
PY
expect_ok "the officers' transcript is sealed" seal "$OT"
out=$("$CEREMONY" audit --allow-test-cost --root "$SITE/out/root.pem" "$S" 2>&1)
check "audit accepts the officers' changes and reports the approvals" bash -c "printf '%s' \"\$1\" | grep -q 'quorum ✓ 4 approval sets checked; 3 root operations approved'" _ "$out"
check "quorum show lists KE4 as retired and KE6 as an officer" bash -c \
	"'$CEREMONY' quorum show --history '$S' | grep -q 'KE4 .*retired' && '$CEREMONY' quorum show --history '$S' | grep -q 'KE6 *Person KE6'"

# A backup operation is approved too: without approvers it is refused before the HSM is touched.
expect_fail "backup create without approvals is refused" 1 'backup-create needs approvals of 2 of KE and 1 of IW .*none were given' \
	in_ot --pin-source "file:$P/CA.pin" --so-pin-source "file:$P/SO.pin" backup create --token root-hsm --key root \
	--threshold 2 --shares 2 --cards card-1,card-2 --out "$T/b2.blob" --internal-record "$T/b2.json" \
	--card-pin-sources "file:$P/KE1.pin,file:$P/KE2.pin" --passphrase-sources "file:$P/KE1.pass,file:$P/KE2.pass"
check "... no blob or internal record was written" test ! -e "$T/b2.blob" -a ! -e "$T/b2.json"
check "the root key generation's backup carries its approvals in its record" bash -c \
	"grep '\"action\":\"backup.create\"' '$S/0001-root-keygen.jsonl' | jq -e '.details.quorum.approvals | length == 3' >/dev/null"
# The same backup record without its approvals, re-sealed: transcript verify names it.
d=$T/forged-backup
cp -r "$SITE" "$d"
rm -f "$d/transcripts/0001-root-keygen.jsonl.sig" "$d/transcripts/0001-root-keygen.jsonl.countersig-IW"
python3 - "$d/transcripts/0001-root-keygen.jsonl" <<'PY'
import hashlib, json, sys
path = sys.argv[1]
recs = [json.loads(l) for l in open(path)]
for r in recs:
    if r["action"] == "backup.create":
        del r["details"]["quorum"]
prev = recs[0]["prev"]
with open(path, "w") as f:
    for r in recs:
        r["prev"] = prev
        line = json.dumps(r, separators=(",", ":"), ensure_ascii=True)
        f.write(line + "\n")
        prev = hashlib.sha256(line.encode()).hexdigest()
PY
seal "$d/transcripts/0001-root-keygen.jsonl" >/dev/null 2>&1
expect_fail "transcript verify names a backup without approvals" 1 'the backup operation \(backup-create\) carries no approvals' \
	"$CEREMONY" transcript verify --allow-test-cost --root "$SITE/out/root.pem" "$d/transcripts/0001-root-keygen.jsonl"
finish

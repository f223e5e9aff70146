#!/usr/bin/env bash
# Scripted ceremonies: every shipped script end to end, dry runs against golden
# files, refusals and exceptions, resume after kill -9, no secrets in scripts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../../ceremony-scripts/demo-site.sh"
setup_hsm
make_site "$T/site"
S=$SITE/transcripts

expect_ok "root key generation script" run_script root-key-generation 0001-root-keygen
expect_ok "signing script" run_script signing 0002-signing 0001-root-keygen
crl_config=$(site_revoke "$SITE/media/out/legacy-tpm.pem" cessationOfOperation)
run_crl() { SITE_RUN_CONFIG=$crl_config run_script root-crl 0003-crl 0002-signing; }
expect_ok "root CRL script (revoking the legacy-tpm intermediate)" run_crl
expect_ok "DR drill script" run_script dr-drill 0004-dr-drill 0003-crl
rekey_config=$(site_rekey) || fatal "site_rekey"
run_rekey() { SITE_RUN_CONFIG=$rekey_config run_script custodian-rekey 0005-rekey 0004-dr-drill; }
expect_ok "custodian rekey script (its lists of cards from the site's configuration)" run_rekey
expect_ok "the auditor's replay script over the whole history" "$CEREMONY" --config "$SITE_CONFIG" run ceremony-scripts/audit.yaml \
	--answers "$SITE_ANSWERS" --transcript "$T/audit-run.jsonl"
check "the audit recorded its replay" grep -q '"action":"step.done".*"step":"1.2"' "$T/audit-run.jsonl"
for f in "$S"/*.jsonl; do
	# The site seals at the test Argon2id cost (argon2_cost: test): a verifier says so.
	check "$(basename "$f") verifies against the root" "$CEREMONY" transcript verify --allow-test-cost --root "$SITE/out/root.pem" "$f"
done
expect_fail "a backup's transcript sealed at the test cost fails without --allow-test-cost" 1 'sealed at the TEST Argon2id cost' \
	"$CEREMONY" --config "$SITE_CONFIG" transcript verify --root "$SITE/out/root.pem" "$S/0001-root-keygen.jsonl"
check "each ceremony names the previous sealed one" bash -c "head -1 '$S/0003-crl.jsonl' | grep -q '\"previous\":{\"path\":\"transcripts/0002-signing.jsonl\"'"
# The factory's medium carries only what goes to the factory (issue 10.8).
check "the backup blob is on its own medium" test -s "$SITE/backup-media/root-backup.blob"
check "the factory medium holds no backup blob" bash -c "! find '$SITE/media' -name '*.blob' | grep -q ."
check "the signed manifest of the factory medium lists no backup" bash -c "test -s '$SITE/media/MANIFEST.sha256' && ! grep -q 'blob' '$SITE/media/MANIFEST.sha256'"
check "no transcript's media.manifest lists a backup blob" bash -c "! grep '\"action\":\"media.manifest\"' '$S'/*.jsonl | grep -q 'blob'"
# say text is recorded as shown: variables expanded (issue 10.7).
crl_serial=$(openssl x509 -in "$SITE/media/out/legacy-tpm.pem" -noout -serial | cut -d= -f2)
check "step.begin records the say text with its variables expanded" bash -c "grep '\"action\":\"step.begin\"' '$S/0003-crl.jsonl' | grep -q 'serial $crl_serial, reason cessationOfOperation'"
check "no recorded say text keeps a \${variable}" bash -c "! grep '\"action\":\"step.begin\"' '$S'/*.jsonl | grep -q '\"say\":\"[^\"]*\\\${'"
cfg_redacted_sha() { sed -E 's/^(backup_threshold|backup_shares|[a-z_]*key_executives):.*$/\1: <confidential>/' "$1" | sha256sum | cut -c1-64; }
check "the script's SHA-256 is recorded" grep -q "\"sha256\":\"$(sha256sum ceremony-scripts/root-key-generation.yaml | cut -c1-64)\"" "$S/0001-root-keygen.jsonl"
check "the configuration's SHA-256 is recorded with k, n and the lists redacted (sed can redo it)" \
	grep -q "\"sha256_redacted\":\"$(cfg_redacted_sha "$SITE_CONFIG")\"" "$S/0001-root-keygen.jsonl"
check "the configuration's own SHA-256 (a guess of k and n would match it) is in no transcript" \
	bash -c '! grep -rq "$1" "$2"' _ "$(sha256sum "$SITE_CONFIG" | cut -c1-64)" "$S"
check "every step is begun and done (a step per card counts once: its entries are in the annex)" \
	test "$(grep -c '"action":"step.done"' "$S/0001-root-keygen.jsonl")" -eq 17
check "... and each card's step is done in the confidential annex" \
	test "$(grep -c '"action":"step.done"' "$SITE/internal/0001-root-keygen.annex.jsonl")" -eq 5
check "the witness countersigned after the seal" test -s "$S/0001-root-keygen.jsonl.countersig-IW"
check "confirmations are recorded with the answer" grep -q '"action":"step.confirm".*"answer":"yes"' "$S/0001-root-keygen.jsonl"
check "k and n are not in the public transcript's command lines" bash -c "! grep '\"action\":\"step.begin\"' '$S/0001-root-keygen.jsonl' | grep -q '\"--threshold\",\"3\"' && grep -q '\"--threshold\",\"<confidential>\"' '$S/0001-root-keygen.jsonl'"
check "no PIN or passphrase in any transcript" bash -c "! grep -rqE 'pin-of-|passphrase of' '$S'"
check "PIN sources appear only as placeholders" bash -c "! grep -q '$SITE/pins' '$S/0001-root-keygen.jsonl'"
# The medium: manifest at the start, MANIFEST.sha256 of what was written, signed by the root.
check "the medium's files were hashed at the start" grep -q '"action":"media.manifest".*factory-1.csr' "$S/0002-signing.jsonl"
check "MANIFEST.sha256 lists what the ceremony wrote" bash -c "grep -q 'out/intermediate.pem' '$SITE/media/MANIFEST.sha256' && ! grep -q 'csr/' '$SITE/media/MANIFEST.sha256'"
check "sha256sum -c accepts MANIFEST.sha256" bash -c "cd '$SITE/media' && sha256sum -c --quiet MANIFEST.sha256"
check "openssl cms -verify accepts the manifest's signature" openssl cms -verify -binary -inform DER \
	-in "$SITE/media/MANIFEST.sha256.sig" -content "$SITE/media/MANIFEST.sha256" -CAfile "$SITE/out/root.pem" -out /dev/null
check "the DR drill reconstituted and destroyed the key" bash -c "grep -q '\"action\":\"backup.drill\"' '$S/0004-dr-drill.jsonl'"
check "the rekey superseded the first backup" grep -q '"supersedes"' "$S/0005-rekey.jsonl"

# Dry runs: deterministic, nothing touched; kept as golden files.
sed -e "s|^module: .*|module: /usr/lib/softhsm/libsofthsm2.so|" -e "s|^toolkit: .*|toolkit: /src/build/toolkit|" -e "s|$SITE|/site|g" -e "s|$PWD|/src|g" \
	-e "s|^\([a-z0-9_]*_spki\): .*|\1: 5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed|" "$SITE_CONFIG" >"$T/golden.yaml"
for s in root-key-generation signing root-crl dr-drill custodian-rekey root-rollover audit; do
	before=$(find "$T" -type f | wc -l)
	"$CEREMONY" --config "$T/golden.yaml" run "ceremony-scripts/$s.yaml" --dry-run >"$T/$s.dry" 2>&1
	rc=$?
	check "dry run of $s exits 0 and touches nothing" test "$rc" -eq 0 -a "$(find "$T" -type f | wc -l)" -eq $((before + 1))
	check "dry run of $s matches tests/golden/dry-run-$s.txt" diff -u "tests/golden/dry-run-$s.txt" "$T/$s.dry"
done

# The sample site configuration: every shipped script's dry run builds from it; a
# configuration that lacks settings is told all of them at once, with the step using each.
for s in $(grep -l '^ceremony:' ceremony-scripts/*.yaml); do
	check "the sample ceremony.yaml.example serves $(basename "$s")" "$CEREMONY" --config ceremony-scripts/ceremony.yaml.example run "$s" --dry-run
done
grep -vE '^(backup_threshold|backup_shares|root_subject|key_executives):' ceremony-scripts/ceremony.yaml.example >"$T/lacking.yaml"
expect_fail "a dry run names every missing setting up front, with its step" 1 \
	'has: root_subject \(step 3.3\), key_executives \(step 5.1\), backup_threshold \(step 7.1\), backup_shares \(step 7.1\); ceremony-scripts/ceremony.yaml.example shows each one' \
	"$CEREMONY" --config "$T/lacking.yaml" run ceremony-scripts/root-key-generation.yaml --dry-run

# The printable checklist.
"$CEREMONY" --config "$SITE_CONFIG" script print ceremony-scripts/root-key-generation.yaml >"$T/checklist.html"
check "the checklist has a box for each of the 19 steps (a step per card is one; 2 after the seal)" test "$(grep -c 'class="box">☐' "$T/checklist.html")" -eq 19
check "the checklist shows neither k, n nor the cards" bash -c "! grep -qE -- '--(threshold|shares|cards) [^&]' '$T/checklist.html' && grep -q -- '--cards &lt;confidential&gt;' '$T/checklist.html'"
check "the checklist carries the script's SHA-256" grep -q "$(sha256sum ceremony-scripts/root-key-generation.yaml | cut -c1-4)" "$T/checklist.html"
printf 'ceremony: x\ntitle: "<script>alert(1)</script>"\nroles: {CA: "A & B"}\nacts:\n  - title: a\n    steps:\n      - {role: CA, say: "<b>bold</b>", confirm: ok}\n' >"$T/hostile.yaml"
"$CEREMONY" script print "$T/hostile.yaml" >"$T/hostile.html"
check "the checklist escapes what the script says" bash -c "! grep -q '<script>\|<b>bold' '$T/hostile.html' && grep -q '&lt;script&gt;' '$T/hostile.html' && grep -q 'A &amp; B' '$T/hostile.html'"

# Refusals before anything happens.
printf 'ceremony: x\ntitle: x\nroles: {CA: A}\nacts:\n  - title: a\n    steps:\n      - {role: CA, say: s, run: [key, show, --pin-source, "file:/tmp/p"]}\n' >"$T/pin.yaml"
expect_fail "a script holding a PIN source is refused" 1 'added by the runner from the answers' \
	"$CEREMONY" run "$T/pin.yaml" --dry-run
for opt in --new-pin-source --secret-source; do
	printf 'ceremony: x\ntitle: x\nroles: {CA: A}\nacts:\n  - title: a\n    steps:\n      - {role: CA, say: s, run: [token, change-pin, %s, "file:/tmp/p"]}\n' "$opt" >"$T/pin2.yaml"
	expect_fail "a script holding $opt (a secret's file) is refused" 1 "$opt is added by the runner" \
		"$CEREMONY" run "$T/pin2.yaml" --dry-run
done
printf 'confirm_all: yes\nroles:\n  CA: {name: A, pin: "1234"}\n' >"$T/bad-answers.yaml"
printf 'ceremony: x\ntitle: x\nroles: {CA: A}\nacts:\n  - title: a\n    steps:\n      - {role: CA, say: s, confirm: ok}\n' >"$T/small.yaml"
expect_fail "an answers file holding a PIN itself is refused" 1 'never the secret itself' \
	"$CEREMONY" run "$T/small.yaml" --answers "$T/bad-answers.yaml" --transcript "$T/x.jsonl"
check "nothing was written" test ! -e "$T/x.jsonl"
printf 'ceremony: x\ntitle: x\nroles: {CA: A}\nacts:\n  - title: a\n    steps:\n      - {role: XX, say: s, confirm: ok}\n' >"$T/role.yaml"
expect_fail "a step by an undeclared role is refused" 1 'role "XX" is not declared' "$CEREMONY" run "$T/role.yaml" --dry-run
expect_fail "an unset variable is refused before anything runs" 1 'needs settings that neither the script nor the site configuration .* has: media \(media\), out \(seal\)' \
	"$CEREMONY" run ceremony-scripts/signing.yaml --answers "$SITE_ANSWERS" --transcript "$T/y.jsonl"
check "... and nothing was written" test ! -e "$T/y.jsonl"
expect_fail "a sealed ceremony is not run again" 1 'complete and sealed' run_script signing 0002-signing

# An exception: IW does not confirm; the decision (abort) and who decided are recorded.
printf 'confirm_all: yes\nroles:\n  CA: {name: A}\n  IW: {name: B}\nsteps:\n  "1.2": {confirm: "no", happened: "seal number differs", decision: abort, decided_by: CA}\n' >"$T/no.yaml"
printf 'ceremony: ex\ntitle: exceptions\nroles: {CA: Administrator, IW: Witness}\nacts:\n  - title: a\n    steps:\n      - {role: CA, say: first, confirm: ok}\n      - {role: IW, say: second, confirm: bag intact}\n      - {role: CA, say: third, confirm: ok}\n' >"$T/ex.yaml"
expect_fail "a refused confirmation stops the ceremony" 1 'stopped at step 1.2: seal number differs' \
	"$CEREMONY" run "$T/ex.yaml" --answers "$T/no.yaml" --transcript "$T/ex.jsonl"
check "the exception records expected, happened, decision and who" grep -q '"action":"step.exception".*"expected":"bag intact","happened":"seal number differs","decision":"abort","decided_by":"CA"' "$T/ex.jsonl"
check "step 1.3 was not run" bash -c "! grep -q '\"step\":\"1.3\"' '$T/ex.jsonl'"
printf 'confirm_all: yes\nroles:\n  CA: {name: A}\n  IW: {name: B}\n' >"$T/yes.yaml"
expect_ok "running again resumes at the stopped step" "$CEREMONY" run "$T/ex.yaml" --answers "$T/yes.yaml" --transcript "$T/ex.jsonl"
check "step 1.1 was not redone" test "$(grep -c '"action":"step.done","inputs":\[\],"outputs":\[\],"details":{"step":"1.1"' "$T/ex.jsonl")" -eq 1
check "the resumed run is recorded" grep -q '"action":"ceremony.resumed"' "$T/ex.jsonl"
printf 'confirm_all: yes\nroles:\n  CA: {name: A}\n  IW: {name: B}\nsteps:\n  "1.2": {confirm: "no", happened: "bag number typo in the log", decision: continue, decided_by: IW}\n' >"$T/cont.yaml"
expect_ok "a deviation the participants accept continues" "$CEREMONY" run "$T/ex.yaml" --answers "$T/cont.yaml" --transcript "$T/ex2.jsonl"
check "... with the exception and the end recorded" bash -c "grep -q '\"decision\":\"continue\"' '$T/ex2.jsonl' && grep -q '\"action\":\"ceremony.end\".*\"exceptions\":1' '$T/ex2.jsonl'"
# The answers file is checked before anything happens: a typo is never a decision (11.2).
printf 'confirm_all: yes\nroles:\n  CA: {name: A}\n  IW: {name: B}\nsteps:\n  "1.2": {confirm: "no", decision: contine, decided_by: IW}\n' >"$T/typo.yaml"
expect_fail "an unrecognised decision in the answers file is refused" 1 'steps.1.2.decision: retry, continue or abort' \
	"$CEREMONY" run "$T/ex.yaml" --answers "$T/typo.yaml" --transcript "$T/typo.jsonl"
check "... and nothing was written" test ! -e "$T/typo.jsonl"
# An answer longer than a record holds is refused up front, never cut (issue 8.6).
long=$(printf 'x%.0s' $(seq 1 600))
printf 'confirm_all: yes\nroles:\n  CA: {name: A}\n  IW: {name: B}\nsteps:\n  "1.2": {confirm: "no", happened: "%s", decision: abort, decided_by: CA}\n' "$long" >"$T/long.yaml"
expect_fail "a 600-byte 'happened' in the answers file is refused" 1 'steps.1.2.happened: longer than 511 bytes' \
	"$CEREMONY" run "$T/ex.yaml" --answers "$T/long.yaml" --transcript "$T/long.jsonl"
check "... and nothing was written" test ! -e "$T/long.jsonl"
printf 'confirm_all: yes\nroles:\n  CA: {name: %s}\n  IW: {name: B}\n' "$long" >"$T/longname.yaml"
expect_fail "a 600-byte name in the answers file is refused" 1 'roles.CA.name: longer than 511 bytes' \
	"$CEREMONY" run "$T/ex.yaml" --answers "$T/longname.yaml" --transcript "$T/longname.jsonl"
check "... and nothing was written" test ! -e "$T/longname.jsonl"
printf 'confirm_all: yes\nroles:\n  CA: {name: A}\n  IW: {name: B}\nsteps:\n  "1.2": {confirm: "no", decision: abort, decided_by: Alice}\n' >"$T/who.yaml"
expect_fail "a decider who is not a role is refused" 1 'steps.1.2.decided_by: not a role' \
	"$CEREMONY" run "$T/ex.yaml" --answers "$T/who.yaml" --transcript "$T/who.jsonl"
printf 'confirm_all: yes\nroles:\n  CA: {name: A}\n  IW: {name: B}\nsteps:\n  "1.2": {confirm: "ye"}\n' >"$T/ye.yaml"
expect_fail "a confirmation that is neither yes nor no is refused" 1 'steps.1.2.confirm: yes or no' \
	"$CEREMONY" run "$T/ex.yaml" --answers "$T/ye.yaml" --transcript "$T/ye.jsonl"
# Retry from an answers file: taken once per step; the step is done again (11.1).
printf 'ceremony: rt\ntitle: retry\nroles: {CA: Administrator}\nacts:\n  - title: a\n    steps:\n      - {role: CA, say: show a key that is not there yet, run: [key, show, --token, rt-hsm, --label, nokey]}\n' >"$T/rt.yaml"
new_token rt-hsm
printf 'confirm_all: yes\nroles:\n  CA: {name: A, pin: "file:%s"}\nsteps:\n  "1.1": {happened: "no such key", decision: retry, decided_by: CA}\n' "$T/pins/user" >"$T/rt-answers.yaml"
"$CEREMONY" run "$T/rt.yaml" --answers "$T/rt-answers.yaml" --transcript "$T/rt.jsonl" >"$T/rt.out" 2>&1
rc=$?
check "a retried step that fails again stops the ceremony" bash -c "test $rc -eq 1 && grep -q 'doing step 1.1 again' '$T/rt.out' && grep -q 'stopped at step 1.1' '$T/rt.out'"
check "the retry was recorded, then the second failure's abort" bash -c "grep '\"action\":\"step.exception\"' '$T/rt.jsonl' | head -1 | grep -q '\"decision\":\"retry\",\"decided_by\":\"CA\"' && grep '\"action\":\"step.exception\"' '$T/rt.jsonl' | tail -1 | grep -q '\"decision\":\"abort\"'"
check "the step began twice" test "$(grep -c '"action":"step.begin"' "$T/rt.jsonl")" -eq 2
# The HTML transcript: a command's arguments in one row; deviations stand out (11.10).
"$CEREMONY" transcript print --html "$T/rt.jsonl" >"$T/rt.html" 2>&1
check "each recorded command is one row of the HTML transcript" bash -c "test \$(grep -c '<th>command</th>' '$T/rt.html') -eq 2 && grep -q '<th>command</th><td><code>key show --token rt-hsm --label nokey --transcript ' '$T/rt.html'"
check "exceptions and failures are highlighted" bash -c "grep -q '<section class=\"record alert\"><h2>#[0-9]* <span class=\"alert\">EXCEPTION</span> step.exception' '$T/rt.html' && grep -q '<span class=\"alert\">FAILED</span> step.failed' '$T/rt.html' && grep -q '<span class=\"alert\">STOPPED</span> ceremony.stopped' '$T/rt.html'"
check "ordinary records are not highlighted" bash -c "grep -q '<section class=\"record\"><h2>#[0-9]* step.begin' '$T/rt.html'"
check "the text transcript marks them too" bash -c "\"$CEREMONY\" transcript print '$T/rt.jsonl' | grep -q '!! EXCEPTION: step.exception'"
# The air-gap override is recorded in the ceremony.begin of a run's transcript (11.6).
check "a scripted ceremony's ceremony.begin records the air-gap override" bash -c "head -1 '$S/0001-root-keygen.jsonl' | grep -q '\"action\":\"ceremony.begin\".*\"network_override\":{.*\"allowed_by\":\"CEREMONY_ALLOW_NETWORK=1\"'"
check "a resumed run records the override again" grep -q '"action":"ceremony.resumed".*"network_override"' "$T/ex.jsonl"
# The report never claims k and n are undisclosed when a public record says them (11.5).
mkdir -p "$T/leak"
cp "$S"/*.jsonl "$S"/*.sig "$T/leak/"
printf 'ceremony: leak\ntitle: leak\nroles: {CA: A}\nacts:\n  - title: a\n    steps:\n      - {role: CA, say: "the KEK was split 3 of 5", confirm: ok}\n' >"$T/leak.yaml"
printf 'confirm_all: yes\nroles:\n  CA: {name: A}\n' >"$T/leak-answers.yaml"
"$CEREMONY" run "$T/leak.yaml" --answers "$T/leak-answers.yaml" --transcript "$T/leak/zz-leak.jsonl" >/dev/null 2>&1
"$CEREMONY" report "$S" >"$T/report-clean.txt" 2>&1
"$CEREMONY" report "$T/leak" >"$T/report-leak.txt" 2>&1
check "the report gives n - k when no public record states k or n" grep -q 'k and n are in no public record' "$T/report-clean.txt"
check "the report withholds n - k and names the record that states k of n" bash -c "grep -q 'not given: zz-leak.jsonl line [0-9]* discloses the text read aloud states k of n' '$T/report-leak.txt' && ! grep -q 'k and n are in no public record' '$T/report-leak.txt'"
finish

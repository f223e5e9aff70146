#!/usr/bin/env bash
# Abandoned and unfinished ceremonies in the audit (issue 11.3, 11.4): a stopped first
# attempt is retired with a recorded reason and listed apart, not as a fork; a ceremony
# still in progress and files that are not present are said, never marked ✓, and fail
# the audit unless --partial.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../../ceremony-scripts/demo-site.sh"
setup_hsm
make_site "$T/site"
S=$SITE/transcripts
sed 's/^confirm_all: yes/confirm_all: yes\nsteps:\n  "1.1": {confirm: "no", happened: "bag seal broken", decision: abort, decided_by: IW}/' "$SITE_ANSWERS" >"$T/stop.yaml"
SITE_ANSWERS_SAVED=$SITE_ANSWERS
SITE_ANSWERS=$T/stop.yaml
run_script root-key-generation first-attempt >"$T/stop.out" 2>&1
check "the first attempt stopped at step 1.1" grep -q 'stopped at step 1.1' "$T/stop.out"
SITE_ANSWERS=$SITE_ANSWERS_SAVED
expect_fail "abandoning needs a reason" 2 'bad value ""' \
	"$CEREMONY" --config "$SITE_CONFIG" run ceremony-scripts/root-key-generation.yaml --transcript "$S/first-attempt.jsonl" --abandon ""
expect_fail "there is nothing to abandon in a transcript that does not exist" 1 'no ceremony to abandon' \
	"$CEREMONY" --config "$SITE_CONFIG" run ceremony-scripts/root-key-generation.yaml --answers "$SITE_ANSWERS" \
	--transcript "$S/none.jsonl" --abandon "x"
check "... and nothing was written" test ! -e "$S/none.jsonl"
"$CEREMONY" --config "$SITE_CONFIG" run ceremony-scripts/root-key-generation.yaml --answers "$SITE_ANSWERS" \
	--transcript "$S/first-attempt.jsonl" --abandon "bag seal broken; the ceremony starts again with a new HSM" >"$T/ab.out" 2>&1
rc=$?
check "abandoning a ceremony whose sealing key was never made succeeds" test "$rc" -eq 0
check "... and says it could not be sealed" grep -q 'Not sealed' "$T/ab.out"
check "the abandonment is recorded with its reason and the next step" grep -q '"action":"ceremony.abandoned".*"reason":"bag seal broken; the ceremony starts again with a new HSM","steps_done":0,"next_step":"1.1"' "$S/first-attempt.jsonl"
expect_fail "an abandoned ceremony is not resumed" 1 'was abandoned; start the ceremony again' \
	run_script root-key-generation first-attempt
expect_ok "the second attempt runs as a first ceremony" run_script root-key-generation 0001-root-keygen
"$CEREMONY" audit --allow-test-cost --root "$SITE/out/root.pem" "$S" >"$T/audit1.out" 2>&1
rc=$?
check "the audit holds with an abandoned first attempt beside the history" test "$rc" -eq 0
check "... which it lists as abandoned, with the reason, not as a fork" bash -c "grep -q 'first-attempt.jsonl.*ABANDONED: bag seal broken' '$T/audit1.out' && ! grep -qi 'fork' '$T/audit1.out'"
check "... says it is not sealed and records no action" grep -q 'not sealed (hash chain checked; it records no key' "$T/audit1.out"
check "the summary lists how each ceremony ran" bash -c "grep -q 'run: answers file (non-interactive); 1 exception (1.1 abort); 1 stop; 0 resumes' '$T/audit1.out' && grep -q 'AIR GAP OVERRIDDEN' '$T/audit1.out' && grep -q 'TEST COST' '$T/audit1.out'"
check "the verdict counts the abandoned ceremony apart" grep -q 'History intact: 1 ceremonies.*1 abandoned ceremony, not part of the chain' "$T/audit1.out"

# A ceremony in progress is the latest; the audit says so and fails unless --partial.
printf 'confirm_all: yes\nsteps:\n  "1.1": {confirm: "no", happened: "CSR media missing", decision: abort, decided_by: CA}\n' >"$T/sgn-head.yaml"
sed -n '/^roles:/,$p' "$SITE_ANSWERS" >>"$T/sgn-head.yaml"
SITE_ANSWERS=$T/sgn-head.yaml run_script signing 0002-signing 0001-root-keygen >/dev/null 2>&1
"$CEREMONY" audit --allow-test-cost --root "$SITE/out/root.pem" "$S" >"$T/audit2.out" 2>"$T/audit2.err"
rc=$?
check "an audit with a ceremony in progress fails without --partial" test "$rc" -eq 1
check "... naming the ceremony in progress" grep -q 'Not checked: 0002-signing.jsonl is in progress (not sealed)' "$T/audit2.out"
check "... and never calls the history intact" bash -c "! grep -q 'History intact' '$T/audit2.out' && grep -q 'give --partial' '$T/audit2.err'"
"$CEREMONY" audit --allow-test-cost --partial --root "$SITE/out/root.pem" "$S" >"$T/audit3.out" 2>&1
rc=$?
check "with --partial the audit exits 0 and says partial in the verdict" bash -c "test $rc -eq 0 && grep -q 'History intact AS FAR AS CHECKED (partial audit, --partial)' '$T/audit3.out'"
check "the unsealed ceremony is marked, not ✓" grep -q '0002-signing.jsonl.*NOT SEALED' "$T/audit3.out"
# Abandon it: the root key exists now, so the abandonment is sealed.
"$CEREMONY" --config "$SITE_CONFIG" run ceremony-scripts/signing.yaml --answers "$SITE_ANSWERS" \
	--transcript "$S/0002-signing.jsonl" --abandon "CSR medium missing; signing moved to next week" >"$T/ab2.out" 2>&1
check "an abandoned ceremony is sealed when its key exists" test -s "$S/0002-signing.jsonl.sig"
check "openssl accepts the abandoned ceremony's seal" openssl cms -verify -binary -inform DER -in "$S/0002-signing.jsonl.sig" \
	-content "$S/0002-signing.jsonl" -CAfile "$SITE/out/root.pem" -out /dev/null
"$CEREMONY" audit --allow-test-cost --root "$SITE/out/root.pem" "$S" >"$T/audit4.out" 2>&1
rc=$?
check "the audit holds again, listing the sealed abandoned ceremony" bash -c "test $rc -eq 0 && grep -q '0002-signing.jsonl.*ABANDONED: CSR medium missing.*sealed ✓' '$T/audit4.out'"

# Only the transcripts and root.pem: nothing replayed is marked ✓; the audit fails unless --partial.
mkdir -p "$T/only/transcripts"
cp "$S"/0001-root-keygen.jsonl* "$T/only/transcripts/"
cp "$SITE/out/root.pem" "$T/only/root.pem"
"$CEREMONY" audit --allow-test-cost --root "$T/only/root.pem" "$T/only/transcripts" >"$T/audit5.out" 2>"$T/audit5.err"
rc=$?
check "an audit without the recorded files fails" test "$rc" -eq 1
check "... saying what it could not replay or check, without a ✓ for it" bash -c "grep -q 'NOT REPLAYED: 2 records' '$T/audit5.out' && grep -q 'Not checked: 2 records could not be replayed' '$T/audit5.out' && ! grep -q 'certificate.*replayed ✓' '$T/audit5.out'"
check "... and points to the archive an auditor needs" grep -q 'see docs/audit.md' "$T/audit5.out"
finish

#!/usr/bin/env bash
# A ceremony that forgives people (issue 11.1, 11.2), typed on a real pseudo-terminal
# (tmux): an unrecognised answer is asked again and recorded, never taken as a decision;
# a mistyped PIN confirmation and a wrong PIN are asked again; a failed step is retried;
# type-ahead before a PIN prompt is discarded; three unrecognised decisions stop the
# ceremony with the exception recorded as undecided.
. "$(dirname "$0")/lib.sh"
setup_hsm
. "$(dirname "$0")/tty_lib.sh"
cat >"$T/script.yaml" <<'YAML'
ceremony: forgiving
title: Forgiving check
roles:
  CA: Ceremony Administrator
  SO: Security Officer
acts:
  - title: Token
    steps:
      - role: SO
        say: Check the bag
        confirm: Is the bag intact
      - role: SO
        say: Initialise the token
        run: [token, init, --label, fg-hsm]
        pin: CA
  - title: Key
    steps:
      - role: CA
        say: Generate a key
        run: [key, generate, --token, fg-hsm, --label, k1, --type, ec-p256]
      - role: CA
        say: Check the log
        confirm: Does the log match
YAML
start() { tty_start "$T/script.yaml" "$1"; } # TRANSCRIPT
stop() { tty_stop; }
J="$T/fg.jsonl"
start "$J"
answer "asks who fills CA" "Who is CA (Ceremony Administrator)?" "Alice Example"
answer "asks who fills SO" "Who is SO (Security Officer)?" "Bob Example"
answer "'ye' at a yes/no question" "SO (Security Officer): Is the bag intact? [y/n]" "ye"
answer "'retry' at a yes/no question" "SO (Security Officer): Is the bag intact? [y/n]" "retry"
# "y", then keys typed before the next prompt: they must not become part of the PIN.
if wait_for "SO (Security Officer): Is the bag intact? [y/n]"; then
	# one burst: the runner reads the line "y"; the rest waits in the terminal's queue
	tmux -S "$sock" send-keys -t cer y Enter early-typed; pass "a third try is accepted"
else fail "a third try is accepted" "$(pane | tail -5)"; fi
answer "asks for the new SO PIN" 'new SO PIN for token "fg-hsm" (4 to 255 characters):' "so-secret-314"
check "type-ahead before the PIN prompt was discarded, and said so" bash -c "tmux -S '$sock' capture-pane -p -t cer | grep -qF 'typed before this prompt was discarded'"
answer "a mistyped confirmation of the SO PIN" 'new SO PIN for token "fg-hsm" (4 to 255 characters) (again):' "so-secret-315"
answer "is asked again from the first entry" 'new SO PIN for token "fg-hsm" (4 to 255 characters):' "so-secret-314"
answer "and its confirmation" 'new SO PIN for token "fg-hsm" (4 to 255 characters) (again):' "so-secret-314"
answer "asks for the new user PIN" 'new user PIN for token "fg-hsm" (4 to 255 characters):' "user-secret-271"
answer "asks for it again" 'new user PIN for token "fg-hsm" (4 to 255 characters) (again):' "user-secret-271"
answer "a wrong user PIN" 'user PIN for token "fg-hsm":' "user-secret-000"
answer "is asked again" 'user PIN for token "fg-hsm":' "user-secret-001"
answer "and a third time" 'user PIN for token "fg-hsm":' "user-secret-002"
answer "three wrong PINs fail the step, which asks what happened" "What happened?" "CA mistyped the PIN three times"
answer "an unrecognised decision" "Decision (retry/continue/abort)?" "retyr"
answer "is asked again" "Decision (retry/continue/abort)?" "retry"
answer "a name that is not a role" "Decided by (role: CA, SO)?" "Alice"
answer "is asked again" "Decided by (role: CA, SO)?" "CA"
answer "the retried step asks the PIN again" 'user PIN for token "fg-hsm":' "user-secret-271"
# Three unrecognised decisions: nothing is taken as a decision; the ceremony stops.
answer "the last step's confirmation" "CA (Ceremony Administrator): Does the log match? [y/n]" "n"
answer "what happened" "What happened?" "log page 3 torn"
answer "a first unrecognised decision" "Decision (retry/continue/abort)?" "go on"
answer "a second" "Decision (retry/continue/abort)?" "cont"
answer "a third" "Decision (retry/continue/abort)?" "yes"
stop
check "the ceremony stopped (exit 1) when no decision was given" grep -q 'EXIT=1' "$T/exit"
check "it says the exception is undecided" bash -c "printf '%s' \"\$1\" | grep -q 'undecided'" _ "$screen"
check "PINs were never echoed on the terminal" bash -c "! printf '%s' \"\$1\" | grep -qE 'so-secret|user-secret'" _ "$screen"
check "no PIN in the transcript" bash -c "! grep -qE 'so-secret|user-secret|early-typed' '$J'"
check "the key was made on the retry" grep -q '"action":"key.generate"' "$J"
n_unrec=$(grep -c '"action":"step.unrecognised"' "$J")
check "each unrecognised answer is recorded (2 confirm, 1 decision, 1 role, 3 decisions)" test "$n_unrec" -eq 7
check "an unrecognised answer's text is never recorded" bash -c "! grep -qE '\"(ye|retyr|go on|cont)\"' '$J'"
check "the retry is recorded with who decided" grep -q '"action":"step.exception".*"happened":"CA mistyped the PIN three times","decision":"retry","decided_by":"CA"' "$J"
check "the mistyped PIN confirmation is recorded in its step, with the prompt, never the PIN" grep -q '"action":"step.entry_retried".*"step":"1.2","entries":\[{"what":"SO (Security Officer), step 1.2: new SO PIN for token \\"fg-hsm\\" (4 to 255 characters)","reason":"the two entries differ"}\]' "$J"
check "each wrong PIN that was asked again is recorded" grep -q '"action":"step.entry_retried".*"step":"2.1","entries":\[{"what":"CA (Ceremony Administrator), step 2.1: user PIN for token \\"fg-hsm\\"","reason":"wrong PIN"},{"what":"CA (Ceremony Administrator), step 2.1: user PIN for token \\"fg-hsm\\"","reason":"wrong PIN"}\]' "$J"
check "the retried step began twice" test "$(grep -c '"action":"step.begin".*"step":"2.1"' "$J")" -eq 2
check "the retried step is done" grep -q '"action":"step.done".*"step":"2.1"' "$J"
check "the undecided exception is recorded, with nobody deciding" grep -q '"action":"step.exception".*"happened":"log page 3 torn","decision":"undecided","decided_by":null' "$J"
check "the stop is recorded" grep -q '"action":"ceremony.stopped".*"reason":"no decision was given"' "$J"
check "no abort was recorded" bash -c "! grep -q '\"decision\":\"abort\"' '$J'"
finish

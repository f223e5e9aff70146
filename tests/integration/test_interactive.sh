#!/usr/bin/env bash
# An interactive ceremony on a real pseudo-terminal (tmux): names, confirmations
# and PINs typed at the prompts; PINs are never echoed.
. "$(dirname "$0")/lib.sh"
setup_hsm
. "$(dirname "$0")/tty_lib.sh"
cat >"$T/script.yaml" <<'YAML'
ceremony: interactive
title: Interactive check
roles:
  CA: Ceremony Administrator
  SO: Security Officer
acts:
  - title: Token
    steps:
      - role: SO
        say: Check the bag
        confirm: Is the bag intact
      - role: CA
        say: Check the seal log
        confirm: Does the log match
      - role: SO
        say: Initialise the token
        run: [token, init, --label, tty-hsm]
        pin: CA
  - title: Key
    steps:
      - role: CA
        say: Generate a key
        run: [key, generate, --token, tty-hsm, --label, k1, --type, ec-p256]
        confirm: Was the fingerprint read aloud
YAML
tty_start "$T/script.yaml" "$T/tty.jsonl"
answer "asks who fills CA" "Who is CA (Ceremony Administrator)?" "Alice Example"
answer "asks who fills SO" "Who is SO (Security Officer)?" "Bob Example"
answer "asks the SO to confirm, naming the role" "SO (Security Officer): Is the bag intact? [y/n]" "y"
answer "asks CA to confirm the log" "CA (Ceremony Administrator): Does the log match? [y/n]" "n"
answer "a refusal asks what happened" "What happened?" "log page 3 torn"
answer "asks the decision, offering retry" "Decision (retry/continue/abort)?" "continue"
answer "asks who decided, listing the roles" "Decided by (role: CA, SO)?" "SO"
answer "asks the SO for the new SO PIN, naming role and step" 'SO (Security Officer), step 1.3: new SO PIN for token "tty-hsm" (4 to 255 characters):' "so-secret-314"
answer "asks for it again" 'SO (Security Officer), step 1.3: new SO PIN for token "tty-hsm" (4 to 255 characters) (again):' "so-secret-314"
answer "asks the CA for the new user PIN, naming role and step" 'CA (Ceremony Administrator), step 1.3: new user PIN for token "tty-hsm" (4 to 255 characters):' "user-secret-271"
answer "asks for it again" 'CA (Ceremony Administrator), step 1.3: new user PIN for token "tty-hsm" (4 to 255 characters) (again):' "user-secret-271"
answer "asks the CA for the user PIN to generate" 'CA (Ceremony Administrator), step 2.1: user PIN for token "tty-hsm":' "user-secret-271"
answer "asks CA to confirm the fingerprint" "CA (Ceremony Administrator): Was the fingerprint read aloud? [y/n]" "y"
tty_stop
check "the interactive ceremony finished" grep -q 'EXIT=0' "$T/exit"
check "PINs were never echoed on the terminal" bash -c "! printf '%s' \"\$1\" | grep -qE 'so-secret|user-secret'" _ "$screen"
check "the names are recorded" bash -c "grep -q 'Alice Example' '$T/tty.jsonl' && grep -q 'Bob Example' '$T/tty.jsonl'"
check "the run is recorded as interactive" grep -q '"mode":"interactive"' "$T/tty.jsonl"
check "no PIN in the transcript" bash -c "! grep -qE 'so-secret|user-secret' '$T/tty.jsonl'"
check "the key was made" bash -c "grep -q '\"action\":\"key.generate\"' '$T/tty.jsonl'"
check "the exception typed at the terminal is recorded" grep -q '"action":"step.exception".*"happened":"log page 3 torn","decision":"continue","decided_by":"SO"' "$T/tty.jsonl"
finish

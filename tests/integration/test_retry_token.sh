#!/usr/bin/env bash
# A token initialisation that fails half-way, retried from the exception (issue 11.1), on
# a real pseudo-terminal (tmux): the fault module (in front of SoftHSM2) fails C_InitPIN
# after C_InitToken, the token is recorded as unfinished, and "retry" finishes it with
# token init --reinit instead of refusing the label that now exists.
. "$(dirname "$0")/lib.sh"
setup_hsm
. "$(dirname "$0")/tty_lib.sh"
SHIM=$(dirname "$CEREMONY")/faultp11.so
[ -f "$SHIM" ] || { fail "the fault module is built" "$SHIM is missing (make check builds it)"; finish; }
printf 'func = C_InitPIN\nfail = 1\nrv = CKR_DEVICE_ERROR\n' >"$T/fault.conf"
cat >"$T/script.yaml" <<'YAML'
ceremony: retry-token
title: Retry a token initialisation
roles:
  CA: Ceremony Administrator
  SO: Security Officer
acts:
  - title: Token
    steps:
      - role: SO
        say: Initialise the token
        run: [token, init, --label, rt-hsm]
        pin: CA
YAML
J=$T/rt.jsonl
tty_start "$T/script.yaml" "$J" "FAULTP11_MODULE=$CEREMONY_MODULE" "FAULTP11_CONF=$T/fault.conf" \
	"CEREMONY_MODULE=$SHIM"
answer "asks who fills CA" "Who is CA (Ceremony Administrator)?" "Alice Example"
answer "asks who fills SO" "Who is SO (Security Officer)?" "Bob Example"
answer "the SO PIN" 'new SO PIN for token "rt-hsm" (4 to 255 characters):' "so-secret-314"
answer "again" 'new SO PIN for token "rt-hsm" (4 to 255 characters) (again):' "so-secret-314"
answer "the user PIN" 'new user PIN for token "rt-hsm" (4 to 255 characters):' "user-secret-271"
answer "again" 'new user PIN for token "rt-hsm" (4 to 255 characters) (again):' "user-secret-271"
answer "the half-made token fails the step" "What happened?" "the HSM failed while setting the user PIN"
: >"$T/fault.conf" # the fault is gone for the retry
answer "retry is offered" "Decision (retry/continue/abort)?" "retry"
answer "who decided" "Decided by (role: CA, SO)?" "SO"
answer "the retry asks the kept SO PIN" 'SO (Security Officer), step 1.1: SO PIN of token "rt-hsm":' "so-secret-314"
answer "and a new user PIN" 'new user PIN for token "rt-hsm" (4 to 255 characters):' "user-secret-272"
answer "again" 'new user PIN for token "rt-hsm" (4 to 255 characters) (again):' "user-secret-272"
tty_stop
check "the ceremony finished" grep -q 'EXIT=0' "$T/exit"
check "the retry said it initialises the half-made token again" bash -c "printf '%s' \"\$1\" | grep -q 'left half-initialised: initialising it again (token init --reinit)'" _ "$screen"
check "the unfinished token, the retry and the reinit are recorded in order" bash -c "grep -o '\"action\":\"[a-z._]*\"' '$J' | tr '\n' ' ' | grep -q 'token.init_unfinished.*step.exception.*step.begin.*token.reinit.*step.done'"
check "the retried command line carries --reinit" grep -q '"action":"step.begin".*"--reinit"' "$J"
check "the token works with the new user PIN (OpenSC)" pkcs11-tool --module "$CEREMONY_MODULE" --token-label rt-hsm --login --pin user-secret-272 --list-objects
check "no PIN in the transcript" bash -c "! grep -qE 'so-secret|user-secret' '$J'"
finish

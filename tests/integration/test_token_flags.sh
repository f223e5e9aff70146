#!/usr/bin/env bash
# A module that reports a PIN still to be changed (openCryptoki's published default SO
# PIN: CKF_SO_PIN_TO_BE_CHANGED), played by our fault module in front of SoftHSM2
# (FAULTP11_TOKEN_FLAGS): token init does not report success on such a token, every
# command that opens it refuses before its first prompt, and token change-pin --so
# (C_SetPIN) is the way out. Also: the PIN rule stated and checked before C_InitToken.
. "$(dirname "$0")/lib.sh"
setup_hsm
SHIM=$(dirname "$CEREMONY")/faultp11.so
[ -f "$SHIM" ] || { fail "the fault module is built" "$SHIM is missing (make check builds it)"; finish; }
export FAULTP11_MODULE=$CEREMONY_MODULE
export CEREMONY_MODULE=$SHIM
TR=$T/transcripts/flags.jsonl
SO_TBC=0x00800000   # CKF_SO_PIN_TO_BE_CHANGED
USER_TBC=0x00080000 # CKF_USER_PIN_TO_BE_CHANGED

expect_fail "token init does not report success while the SO PIN is flagged to be changed" 1 \
	'flags its SO PIN as still to be changed \(CKF_SO_PIN_TO_BE_CHANGED.*recorded; finish it with "ceremony token change-pin --token dflt --so"' \
	env FAULTP11_TOKEN_FLAGS=$SO_TBC "$CEREMONY" --pin-source "file:$T/pins/user" \
	--so-pin-source "file:$T/pins/so" token init --label dflt --transcript "$TR"
check "the unfinished token is recorded" grep -q '"action":"token.init_unfinished".*"label":"dflt"' "$TR"
expect_fail "key generate refuses the flagged token before the PIN prompt" 1 \
	'flags its SO PIN as still to be changed.*ceremony token change-pin --so' \
	env FAULTP11_TOKEN_FLAGS=$SO_TBC "$CEREMONY" key generate --token dflt --label root --type ec-p256 \
	--transcript "$TR"
check "token probe says the PINs are not usable" bash -c "FAULTP11_TOKEN_FLAGS=$SO_TBC '$CEREMONY' token probe \
	--token dflt | grep -q '^    no   PINs set and not flagged to be changed'"

# The way out: the SO sets a new SO PIN (C_SetPIN); the module then clears its flag.
printf '%s' "new-so-pin-2468" >"$T/pins/so-new"
printf '%s' "abc" >"$T/pins/short"
expect_fail "a new SO PIN outside the token's rule is refused before C_SetPIN" 1 \
	'nothing was changed: the new SO PIN has 3 characters; this token .* takes 4 to 255' \
	cer token change-pin --token dflt --so --new-pin-source "file:$T/pins/short" --transcript "$TR"
expect_ok "token change-pin --so sets a new SO PIN" cer token change-pin --token dflt --so \
	--new-pin-source "file:$T/pins/so-new" --transcript "$TR"
check "the change is recorded, never the PIN" bash -c "grep -q '\"action\":\"token.change_pin\".*\"pin\":\"SO\"' '$TR' && ! grep -q new-so-pin '$TR'"
# OpenSC checks the SO PIN the only way an SO session allows: C_SetPIN to the same value.
check "the new SO PIN logs in (OpenSC)" pkcs11-tool --module "$FAULTP11_MODULE" --token-label dflt --login \
	--login-type so --so-pin new-so-pin-2468 --change-pin --new-pin new-so-pin-2468
check "the old SO PIN does not" bash -c "! pkcs11-tool --module '$FAULTP11_MODULE' --token-label dflt --login \
	--login-type so --so-pin \"\$(cat '$T/pins/so')\" --change-pin --new-pin x-so-pin-1"
expect_ok "once the flag is gone the token works" cer key generate --token dflt --label root --type ec-p256 \
	--transcript "$TR"

# A user PIN flagged to be changed: refused before any prompt, naming the way out.
expect_fail "a user PIN flagged to be changed is refused before the prompt" 1 \
	'flags its user PIN as still to be changed \(CKF_USER_PIN_TO_BE_CHANGED\).*token change-pin' \
	env FAULTP11_TOKEN_FLAGS=$USER_TBC "$CEREMONY" key show --token dflt --label root
finish

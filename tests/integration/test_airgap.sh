#!/usr/bin/env bash
# The air gap: with a network interface up the tool refuses to touch an HSM or a
# transcript unless told --allow-network, and records the override. Runs in a
# private network namespace (unshare -n, as root) whose interfaces the test sets.
. "$(dirname "$0")/lib.sh"
setup_hsm
unset CEREMONY_ALLOW_NETWORK
ns() { unshare -n bash -c "$1"; }
if ! unshare -n true 2>/dev/null; then
	fail "a private network namespace can be made (unshare -n, as root)" "unshare -n failed"
	finish
fi
TR=$T/transcripts/air.jsonl
expect_ok "with no interface up (only loopback) a ceremony runs" \
	ns "ip link set lo up; '$CEREMONY' --pin-source file:$T/pins/user --so-pin-source file:$T/pins/so token init --label air-hsm --transcript '$TR'"
check "and records no override" bash -c "! grep -q network_override '$TR'"
up="ip link add v0 type veth peer name v1 && ip link set v0 up"
expect_fail "with an interface up, key generate is refused" 1 'network interface up \(v0\)' \
	ns "$up; '$CEREMONY' --pin-source file:$T/pins/user key generate --token air-hsm --label k --type ec-p256 --transcript '$TR'"
expect_fail "... and key show" 1 'network interface up \(v0\)' \
	ns "$up; '$CEREMONY' --pin-source file:$T/pins/user key show --token air-hsm --label k"
expect_fail "... and a card command" 1 'network interface up \(v0\)' \
	ns "$up; '$CEREMONY' --pin-source file:$T/pins/user card show air-hsm"
check "nothing was recorded" test "$(grep -c . "$TR")" -eq 2
TR2=$T/transcripts/air2.jsonl
expect_ok "--allow-network overrides it" \
	ns "$up; '$CEREMONY' --allow-network --pin-source file:$T/pins/user key generate --token air-hsm --label k2 --type ec-p256 --transcript '$TR2'"
check "the override is recorded in the new transcript's ceremony.begin" \
	grep -q '"action":"ceremony.begin".*"network_override":{"interfaces":\["v0"\],"allowed_by":"--allow-network"}' "$TR2"
expect_ok "offline checks need no air gap (verify)" ns "$up; '$CEREMONY' transcript verify --allow-unsealed '$TR2'"
# Issue 9.13: an override is never silent: a warning on stderr every time, a transcript
# or not, naming the interfaces; once per command, not once per check.
err=$(ns "$up; '$CEREMONY' --allow-network --pin-source file:$T/pins/user key show --token air-hsm --label k2" 2>&1 >/dev/null)
check "--allow-network on a command without a transcript warns on stderr" bash -c \
	"printf '%s' \"\$1\" | grep -q '^ceremony: WARNING: the air gap is overridden (--allow-network): network interface up: v0'" _ "$err"
check "... once" test "$(printf '%s\n' "$err" | grep -c 'WARNING: the air gap')" -eq 1
err=$(ns "$up; CEREMONY_ALLOW_NETWORK=1 '$CEREMONY' --pin-source file:$T/pins/user key generate --token air-hsm --label k3 --type ec-p256 --transcript '$T/transcripts/air3.jsonl'" 2>&1 >/dev/null)
check "CEREMONY_ALLOW_NETWORK=1 warns too, with a transcript" bash -c \
	"printf '%s' \"\$1\" | grep -q 'WARNING: the air gap is overridden (CEREMONY_ALLOW_NETWORK=1)'" _ "$err"
err=$(ns "ip link set lo up; '$CEREMONY' --allow-network --pin-source file:$T/pins/user key show --token air-hsm --label k2" 2>&1 >/dev/null)
check "no warning when nothing is overridden (only loopback up)" bash -c "! printf '%s' \"\$1\" | grep -q WARNING" _ "$err"
finish

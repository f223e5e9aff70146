# Shared helpers for integration tests: a private SoftHSM2 token folder per test
# run, PIN files, and assertions that print "ok - NAME" / "not ok - NAME".
# Tests drive the real binary ($CEREMONY) against real tokens; no mocks.
set -u

: "${CEREMONY:?CEREMONY must name the ceremony binary}"
TESTS_FAILED=0

# The module is configuration for the tool; tests find Debian's SoftHSM2.
find_softhsm() {
	for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
		/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so; do
		[ -f "$m" ] && { echo "$m"; return 0; }
	done
	dpkg -L softhsm2 2>/dev/null | grep 'libsofthsm2.so$' | head -n1
}

setup_hsm() {
	T=$(mktemp -d /tmp/ceremony-test.XXXXXX)
	mkdir -p "$T/tokens" "$T/out" "$T/transcripts" "$T/pins"
	cat >"$T/softhsm2.conf" <<CONF
directories.tokendir = $T/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
	export SOFTHSM2_CONF="$T/softhsm2.conf"
	CEREMONY_MODULE=$(find_softhsm)
	export CEREMONY_MODULE
	# Test machines are on a network; the ceremony tool refuses that unless told,
	# and records the override (test_airgap.sh tests the refusal itself).
	export CEREMONY_ALLOW_NETWORK=1
	printf '%s' "so-pin-0000" >"$T/pins/so"
	printf '%s' "user-pin-1234" >"$T/pins/user"
	printf '%s\n' "wrong-pin-9999" >"$T/pins/wrong"
	trap 'rm -rf "$T"' EXIT
}

# ceremony with PIN sources filled in.
cer() {
	"$CEREMONY" --pin-source "file:$T/pins/user" --so-pin-source "file:$T/pins/so" "$@"
}

new_token() { # LABEL [TRANSCRIPT]
	cer token init --label "$1" --transcript "${2:-$T/transcripts/setup.jsonl}" >/dev/null
}

pass() { echo "ok - $1"; }
fail() {
	echo "not ok - $1"
	[ $# -gt 1 ] && printf '    %s\n' "$2"
	TESTS_FAILED=$((TESTS_FAILED + 1))
}

# expect_ok NAME CMD...: the command succeeds.
expect_ok() {
	local name=$1
	shift
	local out
	if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "exit $?: $out"; fi
}

# expect_fail NAME CODE PATTERN CMD...: exits CODE with one stderr line matching PATTERN.
expect_fail() {
	local name=$1 code=$2 pattern=$3
	shift 3
	local err rc
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -ne "$code" ]; then
		fail "$name" "expected exit $code, got $rc: $err"
	elif ! printf '%s' "$err" | grep -qE -- "$pattern"; then
		fail "$name" "stderr does not match /$pattern/: $err"
	elif [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then
		fail "$name" "expected one line on stderr, got: $err"
	else
		pass "$name"
	fi
}

# check NAME CONDITION-COMMAND...: a plain assertion.
check() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name" "failed: $*"; fi
}

finish() {
	[ "$TESTS_FAILED" -eq 0 ]
	exit $?
}

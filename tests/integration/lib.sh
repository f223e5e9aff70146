# Shared helpers for integration tests: a private SoftHSM2 token folder per test
# run, PIN files, and assertions that print "ok - NAME" / "not ok - NAME".
# Tests drive the real binary ($CEREMONY) against real tokens; no mocks.
set -u

: "${CEREMONY:?CEREMONY must name the ceremony binary}"
# The project's root, whatever folder the test changes to later.
SRC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TESTS_FAILED=0

# One cleanup registry: on_exit CMD adds CMD; all run at exit, newest first.
# (A second `trap ... EXIT` would silently replace the first: never use trap.)
_CLEANUPS=()
on_exit() { _CLEANUPS+=("$1"); }
_run_cleanups() {
	local i
	for ((i = ${#_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${_CLEANUPS[$i]}"; done
}
trap _run_cleanups EXIT

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
	on_exit 'rm -rf "$T"'
}

# make_root TOKEN LABEL TYPE TRANSCRIPT OUT [SUBJECT]: a token, a root key on it and
# its self-signed certificate from the shipped root profile. Fatal if any step fails.
make_root() {
	local token=$1 label=$2 type=$3 tr=$4 out=$5
	local subject=${6:-/C=DE/O=ACME Devices/CN=ACME Devices Root CA}
	local profile=$SRC_ROOT/ceremony-scripts/profiles/root.yaml
	new_token "$token" "$tr"
	cer key generate --token "$token" --label "$label" --type "$type" --transcript "$tr" >/dev/null ||
		fatal "make_root: key generate on $token"
	cer cert root --token "$token" --key "$label" --profile "$profile" --subject "$subject" \
		--out "$out" --transcript "$tr" >/dev/null || fatal "make_root: cert root on $token"
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

# fatal WHY: a setup step failed; later checks would only add confusing failures.
fatal() {
	echo "not ok - setup: $1"
	echo "Bail out! $1"
	exit 1
}

# skip NAME WHY: a check that cannot run here, said as such (never counted as passed).
skip() { echo "ok - $1 # SKIP $2"; }

# expect_eq NAME WANT GOT
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want [$2], got [$3]"; fi
}

# expect_contains NAME TEXT NEEDLE: TEXT holds NEEDLE (fixed string).
expect_contains() {
	case $2 in
	*"$3"*) pass "$1" ;;
	*) fail "$1" "no [$3] in: $2" ;;
	esac
}

finish() {
	[ "$TESTS_FAILED" -eq 0 ]
	exit $?
}

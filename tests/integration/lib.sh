# Shared helpers for integration tests: a private SoftHSM2 token folder per test
# run, PIN files, and assertions that print "ok - NAME" / "not ok - NAME".
# Tests drive the real binary ($CEREMONY) against real tokens; no mocks.
set -u
# PIN, passphrase and secret files must be readable by their owner alone (the tool
# refuses others); everything a test writes is private to it anyway.
umask 077

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

# The module under test: CEREMONY_TEST_MODULE (docs/hsm.md, "Testing your HSM")
#   softhsm        SoftHSM2 with a token folder of the test's own (the default)
#   p11-kit-proxy  the same SoftHSM2 behind p11-kit-proxy.so (a user p11-kit config
#                  that loads only SoftHSM2)
#   tpm2           tpm2-pkcs11 on a software TPM (swtpm on a free loopback port, a
#                  session D-Bus and tpm2-abrmd of the test's own, all stopped at exit)
#   /path/to.so    any other PKCS#11 module: a real HSM; its empty slots must accept
#                  C_InitToken with the test's PINs
# MODULE_KIND says which (softhsm, p11-kit-proxy, tpm2, other) for tests that differ.
setup_hsm() {
	T=$(mktemp -d /tmp/ceremony-test.XXXXXX)
	mkdir -p "$T/tokens" "$T/out" "$T/transcripts" "$T/pins"
	on_exit 'rm -rf "$T"'
	# The test's archive holds the profiles it issues under, as a CA's archive does:
	# verify, replay and audit follow recorded paths only inside the archive.
	cp -r "$SRC_ROOT/ceremony-scripts/profiles" "$T/profiles"
	cat >"$T/softhsm2.conf" <<CONF
directories.tokendir = $T/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
	export SOFTHSM2_CONF="$T/softhsm2.conf"
	# Test machines are on a network; the ceremony tool refuses that unless told,
	# and records the override (test_airgap.sh tests the refusal itself).
	export CEREMONY_ALLOW_NETWORK=1
	printf '%s' "so-pin-0000" >"$T/pins/so"
	printf '%s' "user-pin-1234" >"$T/pins/user"
	printf '%s\n' "wrong-pin-9999" >"$T/pins/wrong"
	setup_module "${CEREMONY_TEST_MODULE:-softhsm}"
}

# setup_module KIND: point CEREMONY_MODULE at the module under test (see setup_hsm).
setup_module() {
	case "$1" in
	softhsm)
		MODULE_KIND=softhsm
		CEREMONY_MODULE=$(find_softhsm)
		;;
	p11-kit-proxy)
		MODULE_KIND=p11-kit-proxy
		setup_p11kit_proxy
		;;
	tpm2)
		MODULE_KIND=tpm2
		setup_tpm2
		;;
	/*)
		MODULE_KIND=other
		[ -f "$1" ] || fatal "CEREMONY_TEST_MODULE=$1: no such module"
		CEREMONY_MODULE=$1
		;;
	*) fatal "CEREMONY_TEST_MODULE=$1: use softhsm, p11-kit-proxy, tpm2 or a module path" ;;
	esac
	[ -n "$CEREMONY_MODULE" ] || fatal "no PKCS#11 module for $1"
	export CEREMONY_MODULE MODULE_KIND
}

# SoftHSM2 through p11-kit-proxy, which loads every module registered system-wide
# (p11-kit skips user configurations for root): SoftHSM2 finds the test's tokens through
# SOFTHSM2_CONF; tpm2-pkcs11, registered too, is pointed at a TPM that does not exist so
# that it fails at once (it prints "ERROR:" lines; p11-kit then leaves it out).
setup_p11kit_proxy() {
	local proxy
	proxy=$(dpkg -L p11-kit-modules 2>/dev/null | grep '/p11-kit-proxy.so$' | head -n1)
	[ -n "$proxy" ] || fatal "p11-kit-proxy.so not found (make deps installs p11-kit-modules)"
	export TPM2_PKCS11_TCTI="device:$T/no-tpm" TPM2_PKCS11_STORE="$T/no-tpm-store"
	CEREMONY_MODULE=$proxy
}

# Two free consecutive loopback ports (swtpm's control port is the server port + 1).
free_port_pair() {
	python3 - <<'PY'
import socket
while True:
    a = socket.socket()
    a.bind(("127.0.0.1", 0))
    p = a.getsockname()[1]
    if p >= 65535:
        continue
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1))
    except OSError:
        continue
    print(p)
    break
PY
}

# tpm2-pkcs11 on swtpm, behind tpm2-abrmd on a session bus of the test's own: the
# resource manager keeps the TPM's three object slots from running out.
setup_tpm2() {
	local port i
	CEREMONY_MODULE=$(dpkg -L libtpm2-pkcs11-1 2>/dev/null | grep '/libtpm2_pkcs11.so$' | head -n1)
	[ -n "$CEREMONY_MODULE" ] || fatal "libtpm2_pkcs11.so not found (make deps installs libtpm2-pkcs11-1)"
	mkdir -p "$T/tpm/state" "$T/tpm/store"
	for i in 1 2 3; do
		port=$(free_port_pair) || fatal "no free loopback port"
		swtpm socket --tpm2 --tpmstate "dir=$T/tpm/state" \
			--server "type=tcp,port=$port,bindaddr=127.0.0.1" \
			--ctrl "type=tcp,port=$((port + 1)),bindaddr=127.0.0.1" \
			--flags not-need-init,startup-clear --pid "file=$T/tpm/swtpm.pid" --daemon \
			2>"$T/tpm/swtpm.log" && break
		port=""
	done
	[ -n "$port" ] || fatal "swtpm did not start: $(cat "$T/tpm/swtpm.log")"
	on_exit 'kill "$(cat "$T/tpm/swtpm.pid")" 2>/dev/null'
	dbus-daemon --session --fork --print-address=3 --print-pid=4 \
		3>"$T/tpm/dbus.addr" 4>"$T/tpm/dbus.pid" || fatal "dbus-daemon did not start"
	on_exit 'kill "$(cat "$T/tpm/dbus.pid")" 2>/dev/null'
	DBUS_SESSION_BUS_ADDRESS=$(head -n1 "$T/tpm/dbus.addr")
	export DBUS_SESSION_BUS_ADDRESS
	tpm2-abrmd --session --tcti="swtpm:host=127.0.0.1,port=$port" --allow-root --flush-all \
		>"$T/tpm/abrmd.log" 2>&1 &
	echo $! >"$T/tpm/abrmd.pid"
	on_exit 'kill "$(cat "$T/tpm/abrmd.pid")" 2>/dev/null'
	export TPM2_PKCS11_TCTI="tabrmd:bus_type=session" TPM2TOOLS_TCTI="tabrmd:bus_type=session"
	export TPM2_PKCS11_STORE="$T/tpm/store" TPM2_PKCS11_LOG_LEVEL=0
	# abrmd owns its bus name a moment after it starts.
	for i in $(seq 1 50); do
		dbus-send --session --dest=org.freedesktop.DBus --type=method_call --print-reply \
			/org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
			string:com.intel.tss2.Tabrmd 2>/dev/null | grep -q 'boolean true' && return 0
		sleep 0.1
	done
	fatal "tpm2-abrmd did not come up: $(cat "$T/tpm/abrmd.log")"
}

# make_root TOKEN LABEL TYPE TRANSCRIPT OUT [SUBJECT]: a token, a root key on it and
# its self-signed certificate from the shipped root profile. Fatal if any step fails.
make_root() {
	local token=$1 label=$2 type=$3 tr=$4 out=$5
	local subject=${6:-/C=DE/O=ACME Devices/CN=ACME Devices Root CA}
	local profile=${PROFILES:-$T/profiles}/root.yaml # inside the archive the test audits
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

# csr_spki FILE / csr_subject FILE: a request's pins as cert sign expects them, computed
# by OpenSSL (not by the tool): SHA-256 of its SubjectPublicKeyInfo DER, and its
# subject in the one-line form (/C=DE/O=.../CN=...). PEM or DER requests.
csr_spki() (
	set -o pipefail
	{ openssl req -in "$1" -pubkey -noout 2>/dev/null || openssl req -inform DER -in "$1" -pubkey -noout 2>/dev/null; } |
		openssl pkey -pubin -outform DER 2>/dev/null | sha256sum | cut -c1-64
)
csr_subject() {
	local s
	s=$(openssl req -in "$1" -noout -subject -nameopt compat 2>/dev/null ||
		openssl req -inform DER -in "$1" -noout -subject -nameopt compat 2>/dev/null) || return 1
	printf '%s\n' "${s#subject=}"
}

# pins_for CSR_OR_DIR...: writes an --expect-file pinning each request given (a folder:
# each *.csr, *.der, *.pem in it, as cert sign --csr-dir takes them; a file OpenSSL
# cannot read as a request gets no pin) and prints its path. The shipped CA profiles
# require pins (requests_pinned: true):
#   cer cert sign ... --csr "$csr" --expect-file "$(pins_for "$csr")"
pins_for() {
	local f a x spki subj files=()
	f=$(mktemp "$T/expect.XXXXXX") || fatal "pins_for: mktemp"
	for a in "$@"; do
		if [ -d "$a" ]; then files+=("$a"/*.csr "$a"/*.der "$a"/*.pem); else files+=("$a"); fi
	done
	for x in "${files[@]}"; do
		[ -f "$x" ] || continue
		spki=$(csr_spki "$x") && subj=$(csr_subject "$x") || continue
		printf '%s %s %s\n' "$(basename "$x")" "$spki" "$subj" >>"$f"
	done
	printf '%s\n' "$f"
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
	# The air-gap override warning (test machines are on a network) is not the failure.
	err=$(printf '%s\n' "$err" | grep -v '^ceremony: WARNING: the air gap is overridden')
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

# Every record of every transcript the test wrote (*.jsonl under $T) is one
# docs/transcript-schema.json describes; the checker names an unknown action or field.
# SCHEMA_SKIP: names of files a test tampers with on purpose.
schema_check_transcripts() {
	local out f files=()
	[ -n "${T:-}" ] && [ -d "$T" ] || return 0
	while IFS= read -r -d '' f; do
		case " ${SCHEMA_SKIP:-} " in *" ${f##*/} "*) continue ;; esac
		files+=("$f")
	done < <(find "$T" -name '*.jsonl' -type f -print0)
	[ ${#files[@]} -gt 0 ] || return 0
	if out=$(/usr/bin/python3 "$SRC_ROOT/tests/transcript-schema-check.py" \
		"$SRC_ROOT/docs/transcript-schema.json" "${files[@]}" 2>&1); then
		pass "every transcript record matches docs/transcript-schema.json"
	else
		fail "every transcript record matches docs/transcript-schema.json" "$out"
	fi
}

finish() {
	schema_check_transcripts
	[ "$TESTS_FAILED" -eq 0 ]
	exit $?
}

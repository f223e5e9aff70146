#!/usr/bin/env bash
# Runs the unit tests (cmocka programs) and the integration tests (bash scripts
# that drive build/ceremony against SoftHSM2 tokens they create), then prints
# one closing line: "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
what=${1:-all}
passed=0
failed=0
failed_names=()

if [ "${SANITIZE:-0}" = 1 ]; then
	# SoftHSM2 and libp11 keep process-lifetime allocations; ours must not leak.
	export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi

if [ "$what" = all ] || [ "$what" = unit ]; then
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		out=$("$t" 2>&1)
		rc=$?
		n_ok=$(printf '%s\n' "$out" | grep -c '^\[       OK \]')
		n_bad=$(printf '%s\n' "$out" | grep -c '^\[  FAILED  \] [a-z_]')
		passed=$((passed + n_ok))
		if [ $rc -ne 0 ] || [ "$n_bad" -ne 0 ]; then
			[ "$n_bad" -eq 0 ] && n_bad=1
			failed=$((failed + n_bad))
			failed_names+=("unit/$name")
			printf '%s\n' "$out"
		fi
		echo "unit  $name: $n_ok ok, rc $rc"
	done
fi

if [ "$what" = all ] || [ "$what" = integration ]; then
	for t in tests/integration/test_*.sh; do
		name=$(basename "$t" .sh)
		log=$(mktemp)
		CEREMONY="$PWD/$BUILD/ceremony" bash "$t" >"$log" 2>&1
		rc=$?
		n_ok=$(grep -c '^ok - ' "$log")
		n_bad=$(grep -c '^not ok - ' "$log")
		passed=$((passed + n_ok))
		if [ $rc -ne 0 ] || [ "$n_bad" -ne 0 ]; then
			[ "$n_bad" -eq 0 ] && n_bad=1
			failed=$((failed + n_bad))
			failed_names+=("integration/$name")
			cat "$log"
		fi
		echo "integ $name: $n_ok ok, $n_bad failed, rc $rc"
		rm -f "$log"
	done
fi

for n in "${failed_names[@]+"${failed_names[@]}"}"; do echo "FAILED: $n"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

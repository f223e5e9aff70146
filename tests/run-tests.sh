#!/usr/bin/env bash
# Runs the unit tests (cmocka programs) and the integration tests (bash scripts
# that drive build/ceremony against tokens they create), JOBS at a time (default:
# the number of cores; each test has its own token folder), prints each test's
# result and seconds as it ends, the logs of failed tests, and one closing line:
# "N passed, N failed, N skipped in S s".
#   tests/run-tests.sh [all|unit|integration]      TESTS="csr backup" runs only those
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
what=${1:-all}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
sel=${TESTS:-}

if [ "${SANITIZE:-0}" = 1 ]; then
	# SoftHSM2 keeps process-lifetime allocations; ours must not leak.
	export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
export CEREMONY="$PWD/$BUILD/ceremony"

kinds=() names=() paths=()
add() { kinds+=("$1"); names+=("$2"); paths+=("$3"); }
# The slowest first, so two cores stay busy to the end.
slow="kit demo faults backup interactive run resume csr issue audit docs"
if [ "$what" = all ] || [ "$what" = integration ]; then
	for n in $slow; do [ -f "tests/integration/test_$n.sh" ] && add integ "$n" "tests/integration/test_$n.sh"; done
	for t in tests/integration/test_*.sh; do
		n=$(basename "$t" .sh)
		n=${n#test_}
		[[ " $slow " == *" $n "* ]] || add integ "$n" "$t"
	done
fi
if [ "$what" = all ] || [ "$what" = unit ]; then
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		n=$(basename "$t")
		add unit "${n#test_}" "$t"
	done
fi
if [ -n "$sel" ]; then
	k2=() n2=() p2=()
	for s in $sel; do
		found=0
		for i in "${!names[@]}"; do
			[ "${names[$i]}" = "$s" ] || continue
			k2+=("${kinds[$i]}") n2+=("${names[$i]}") p2+=("${paths[$i]}")
			found=1
		done
		[ $found = 1 ] || { echo "run-tests: no test named \"$s\" (names: ${names[*]})"; exit 2; }
	done
	kinds=("${k2[@]}") names=("${n2[@]}") paths=("${p2[@]}")
fi

res=$(mktemp -d /tmp/ceremony-run-tests.XXXXXX)
trap 'rm -rf "$res"' EXIT
t0=$(date +%s.%N)

run_one() { # I: run test I, write $res/I.log and $res/I.res ("ok bad skip rc secs")
	local i=$1 kind=${kinds[$1]} name=${names[$1]} path=${paths[$1]} rc ok bad skip s e secs
	s=$(date +%s.%N)
	if [ "$kind" = unit ]; then
		"$path" >"$res/$i.log" 2>&1
		rc=$?
		ok=$(grep -c '^\[       OK \]' "$res/$i.log")
		bad=$(grep -c '^\[  FAILED  \] [a-z_]' "$res/$i.log")
		skip=$(grep -c '^\[  SKIPPED \] [a-z_]' "$res/$i.log")
	else
		bash "$path" >"$res/$i.log" 2>&1
		rc=$?
		ok=$(grep '^ok - ' "$res/$i.log" | grep -vc '# SKIP')
		bad=$(grep -c '^not ok - ' "$res/$i.log")
		skip=$(grep '^ok - ' "$res/$i.log" | grep -c '# SKIP')
	fi
	{ [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ]; } && [ "$bad" -eq 0 ] && bad=1
	e=$(date +%s.%N)
	secs=$(awk -v a="$s" -v b="$e" 'BEGIN{printf "%.1f", b-a}')
	echo "$ok $bad $skip $rc $secs" >"$res/$i.res"
	printf '%-5s %-14s %4s ok %3s failed %3s skipped  rc %-3s %6s s\n' "$kind" "$name" "$ok" "$bad" "$skip" "$rc" "$secs"
}

running=0
for i in "${!names[@]}"; do
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
	run_one "$i" &
	running=$((running + 1))
done
wait

passed=0 failed=0 skipped=0
failed_names=()
for i in "${!names[@]}"; do
	if [ ! -f "$res/$i.res" ]; then
		failed=$((failed + 1)); failed_names+=("${kinds[$i]}/${names[$i]} (no result)"); continue
	fi
	read -r ok bad skip rc secs <"$res/$i.res"
	passed=$((passed + ok)) failed=$((failed + bad)) skipped=$((skipped + skip))
	if [ "$bad" -ne 0 ]; then
		failed_names+=("${kinds[$i]}/${names[$i]}")
		echo "----- ${kinds[$i]}/${names[$i]} (rc $rc) -----"
		cat "$res/$i.log"
	fi
done
total=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.0f", b-a}')
for n in "${failed_names[@]+"${failed_names[@]}"}"; do echo "FAILED: $n"; done
echo "$passed passed, $failed failed, $skipped skipped in $total s ($JOBS at a time)"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Backup creation cost (issue 13 item 4), for make bench: prints one JSON object on stdout
# (human lines on stderr), so tests/bench/run-bench.sh can merge it into bench/results.json.
#   backup_10of16_vs_3of5_test_cost   wall time of a 10-of-16 create ÷ a 3-of-5 create, both at
#                                     the test Argon2id cost (target ≤ 5)
#   backup_3of5_production_derivations_per_card
#                                     (3-of-5 create at production cost − the same at test cost)
#                                     ÷ (5 × one Argon2id derivation's wall time measured here);
#                                     the target is ≤ 1 (derivations run on every core, so it can
#                                     be below 1)
#   backup_3of5_production_peak_rss_mib  peak RSS of that create (≈ one 256 MiB buffer per core)
# Usage: CEREMONY=build/ceremony tests/bench/bench_backup.sh [--quick]  (--quick: no production run)
set -euo pipefail
cd "$(dirname "$0")/../.."
CEREMONY=${CEREMONY:-$PWD/${BUILD:-build}/ceremony}
quick=0
[ "${1:-}" = --quick ] && quick=1
. tests/integration/lib.sh
setup_hsm
unset CEREMONY_TEST_ARGON2
CER=("$CEREMONY" --pin-source "file:$T/pins/user" --so-pin-source "file:$T/pins/so")
TR=$T/transcripts/bench-backup.jsonl
new_token root-hsm "$TR"
"${CER[@]}" key generate --token root-hsm --label root --type ec-p384 --transcript "$TR" >/dev/null
cards="" pins="" passes=""
for n in $(seq 1 16); do
	new_token "card-$n" "$TR"
	printf 'bench passphrase number %s, long enough to pass' "$n" >"$T/pins/pass$n"
done
list() { # PREFIX SUFFIX COUNT
	local s="" i
	for i in $(seq 1 "$3"); do s="$s${s:+,}$1$i$2"; done
	echo "$s"
}
# create K N [extra options]: wall seconds and peak RSS KiB of one backup create (its blob: $T/out/last)
create() {
	local k=$1 n=$2 run
	shift 2
	run=$(mktemp -u "$T/out/bXXXXXX")
	rm -f "$T/out/last"
	ln -s "$run.blob" "$T/out/last"
	/usr/bin/time -f "%e %M" -o "$T/time" "${CER[@]}" backup create --token root-hsm --key root \
		--threshold "$k" --shares "$n" --cards "$(list card- "" "$n")" \
		--card-pin-sources "$(list "file:$T/pins/user" "" "$n" | sed "s/user[0-9]*/user/g")" \
		--passphrase-sources "$(list "file:$T/pins/pass" "" "$n")" \
		--out "$run.blob" --internal-record "$run.json" --transcript "$TR" "$@" \
		>"$T/create.log" 2>&1 || { cat "$T/create.log" >&2; return 1; }
	cat "$T/time"
}
best() { # K N [options]: the fastest of three runs' seconds, and its RSS
	local b="" r s m
	for r in 1 2 3; do
		create "$@" >"$T/one" || exit 1
		read -r s m <"$T/one"
		if [ -z "$b" ] || awk -v a="$s" -v c="$b" 'BEGIN{exit !(a<c)}'; then b=$s; fi
	done
	echo "$b"
}
t35=$(best 3 5 --test-cost)
t1016=$(best 10 16 --test-cost)
echo "backup create at test cost: 3-of-5 ${t35} s, 10-of-16 ${t1016} s" >&2
ratio=$(awk -v a="$t1016" -v b="$t35" 'BEGIN{printf "%.2f", (b > 0 ? a / b : 0)}')
prod="null" rss="null" derive="null" perc="null"
if [ "$quick" = 0 ]; then
	create 3 5 >"$T/one" || exit 1
	read -r prod rss <"$T/one"
	# One Argon2id derivation at the production cost, as card verify does it (one card).
	blob=$(readlink "$T/out/last")
	/usr/bin/time -f "%e" -o "$T/time1" "${CER[@]}" card verify card-1 --blob "$blob" \
		--passphrase-source "file:$T/pins/pass1" >/dev/null 2>&1
	/usr/bin/time -f "%e" -o "$T/time0" "${CER[@]}" card show card-1 >/dev/null 2>&1
	derive=$(awk -v a="$(cat "$T/time1")" -v b="$(cat "$T/time0")" 'BEGIN{printf "%.3f", a - b}')
	perc=$(awk -v p="$prod" -v t="$t35" -v d="$derive" 'BEGIN{printf "%.2f", (d > 0 ? (p - t) / (5 * d) : 0)}')
	rss=$(awk -v k="$rss" 'BEGIN{printf "%.0f", k / 1024}')
	echo "backup create 3-of-5 at production cost: ${prod} s, peak RSS ${rss} MiB; one derivation ${derive} s" >&2
fi
printf '{"backup_10of16_vs_3of5_test_cost": %s, "backup_3of5_test_cost_s": %s, "backup_10of16_test_cost_s": %s, "backup_3of5_production_s": %s, "argon2id_one_derivation_s": %s, "backup_3of5_production_derivations_per_card": %s, "backup_3of5_production_peak_rss_mib": %s}\n' \
	"$ratio" "$t35" "$t1016" "$prod" "$derive" "$perc" "$rss"

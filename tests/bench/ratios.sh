#!/usr/bin/env bash
# make bench, issue 13's ratios: each measured in this one run, on this machine,
# against a baseline measured beside it. Writes bench/results.json and prints a
# table. Never a pass/fail: make check does not run this.
#
#   sign_ratio_p384/p256     batch issuance of 1,000 CSRs (one call) ÷ raw C_Sign
#                            on the same token and key (bench_sign, 2 s loops just
#                            before and after the batch); median of 3 rounds
#   batch_speedup_vs_shell   that batch ÷ one `openssl x509 -req` process per
#                            certificate through libp11's PKCS#11 engine
#   history_overhead         one `cert sign` beside a 5,000-certificate history
#                            ÷ the same with an empty history (median of 5)
#   audit_ratio_vs_openssl_verify  `ceremony audit` of that history ÷ `openssl
#                            verify` of every certificate + `sha256sum` of every
#                            file (both on 2 processes)
#   backup_10of16_vs_3of5_test_cost  backup create 10-of-16 ÷ 3-of-5, test Argon2id cost
#   peak_rss_batch_mib       peak RSS of the 1,000-certificate call
#
# BENCH_PARTS (default all) picks parts, comma-separated: sign (raw C_Sign and the
# batches' ratios), shell, history (history_overhead), audit, backup. The batch of
# ceremony 01 is always made (the history starts with it); a partial run writes
# the keys it measured to bench/results-partial.json, never bench/results.json.
# BENCH_DIR=DIR keeps the scratch folder (tokens, the history) in DIR instead of a
# temporary one, and reuses a history an earlier run left complete there.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
CEREMONY=$PWD/$BUILD/ceremony
BATCH=${BENCH_BATCH:-1000}
HISTORY=${BENCH_HISTORY:-5000}
PARTS=${BENCH_PARTS:-all}
RESULTS=${BENCH_RESULTS:-bench/results.json}
[ "$PARTS" = all ] || RESULTS=${BENCH_RESULTS:-bench/results-partial.json}
part() { [ "$PARTS" = all ] || [[ ",$PARTS," == *",$1,"* ]]; }
. tests/integration/lib.sh
setup_hsm
REUSE=0
if [ -n "${BENCH_DIR:-}" ]; then
	# Work in BENCH_DIR; the temporary folder setup_hsm made is still removed at exit
	# (cleanups run newest first: T names it again before the removal runs).
	fresh=$T
	on_exit "T=$fresh"
	mkdir -p "$BENCH_DIR"
	T=$(cd "$BENCH_DIR" && pwd)
	if [ -e "$T/history-complete" ]; then
		REUSE=1
	else
		rm -rf "${T:?}"/*
		cp -r "$fresh"/. "$T"/
		sed -i "s|^directories.tokendir = .*|directories.tokendir = $T/tokens|" "$T/softhsm2.conf"
	fi
	export SOFTHSM2_CONF="$T/softhsm2.conf"
	rm -rf "$T/single" "$T"/single-*.txt
fi
CER=("$CEREMONY" --pin-source "file:$T/pins/user" --so-pin-source "file:$T/pins/so")
PROFILE=$T/profiles/intermediate-ca.yaml
ROOTPROF=$T/profiles/root.yaml
SIGNPROF=$T/profiles/ceremony-signer.yaml

# timed NAME CMD...: runs it, sets SECS and KIB (wall seconds, peak RSS).
timed() {
	local name=$1
	shift
	local t0 t1 e
	t0=$(date +%s%N)
	/usr/bin/time -f "%e %M" -o "$T/time" "$@" >"$T/cmd.log" 2>&1 || {
		echo "bench: $name failed:" >&2
		tail -5 "$T/cmd.log" >&2
		exit 1
	}
	t1=$(date +%s%N)
	read -r e KIB <"$T/time"
	SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b > 0 ? a / b : 0)}'; }

# sign_batch CA-DIR KEY ROOT CSR-DIR OUT-DIR TRANSCRIPT: one call, or (a build
# that refuses big batches) several calls of 250; sets SECS, KIB, CALLS.
sign_batch() {
	local ca=$1 key=$2 root=$3 csrs=$4 out=$5 tr=$6
	mkdir -p "$out"
	CALLS=1
	local t0 e pins
	pins=$(pins_for "$csrs") # the CA profile requires pins: computed before the clock starts
	t0=$(date +%s%N)
	if /usr/bin/time -f "%e %M" -o "$T/time" "${CER[@]}" --previous "$ca/00.jsonl" cert sign --token bench --key "$key" \
		--issuer "$root" --profile "$PROFILE" --csr-dir "$csrs" --out-dir "$out" \
		--transcript "$tr" --expect-file "$pins" >"$T/cmd.log" 2>&1; then
		read -r e KIB <"$T/time"
		SECS=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
		return 0
	fi
	grep -q "more than" "$T/cmd.log" || { tail -5 "$T/cmd.log" >&2; exit 1; }
	local total=0 peak=0 part=0
	CALLS=0
	rm -rf "$T/parts"
	mkdir -p "$T/parts"
	ls "$csrs" | split -l 250 - "$T/parts/list-"
	for list in "$T/parts"/list-*; do
		part=$((part + 1))
		mkdir -p "$T/parts/$part"
		while read -r f; do ln -s "$csrs/$f" "$T/parts/$part/$f"; done <"$list"
		local pv=()
		[ -e "$tr" ] || pv=(--previous "$ca/00.jsonl")
		timed "batch part $part" "${CER[@]}" "${pv[@]}" cert sign --token bench --key "$key" --issuer "$root" \
			--profile "$PROFILE" --csr-dir "$T/parts/$part" --out-dir "$out" --transcript "$tr" \
			--expect-file "$(pins_for "$T/parts/$part")"
		total=$(awk -v a="$total" -v b="$SECS" 'BEGIN {print a + b}')
		[ "$KIB" -gt "$peak" ] && peak=$KIB
		CALLS=$((CALLS + 1))
	done
	SECS=$total
	KIB=$peak
}

echo "== issue 13 ratios (batch $BATCH, history $HISTORY certificates, parts: $PARTS)"
if [ "$REUSE" = 1 ] && { part sign || part shell || part backup; }; then
	echo "bench: BENCH_DIR=$T holds a history already: only the history and audit parts can reuse it" >&2
	exit 2
fi
if [ "$REUSE" = 0 ]; then
	new_token bench "$T/transcripts/setup.jsonl"
	for c in 384 256; do
		mkdir -p "$T/ca$c"
		cer key generate --token bench --label "k$c" --type "ec-p$c" --transcript "$T/ca$c/00.jsonl" >/dev/null
		cer cert root --token bench --key "k$c" --profile "$ROOTPROF" --subject "/C=DE/O=Bench/CN=Bench P-$c Root" \
			--out "$T/ca$c/root.pem" --transcript "$T/ca$c/00.jsonl" >/dev/null
		# Seals are made by a ceremony-signing key the root certifies.
		cer cert signer --token bench --key "k$c" --issuer "$T/ca$c/root.pem" --profile "$SIGNPROF" \
			--label "s$c" --out "$T/ca$c/signer.pem" --transcript "$T/ca$c/00.jsonl" >/dev/null
		cer transcript seal --token bench --key "s$c" "$T/ca$c/00.jsonl" >/dev/null
	done
fi

# Raw C_Sign on the same token and key (bench_sign, a 2-second loop): taken just
# before and just after each batch, whose ratio is to their mean. The speed of this
# shared machine drifts by tens of percent within a minute: a baseline taken a
# minute apart from the batch measures the drift, not the tool.
raw_sign() { # CURVE: C_Sign/s
	local n s v
	read -r n s v < <("$BUILD/bench/bench_sign" "$CEREMONY_MODULE" bench "k$1" "$T/pins/user" 2 $(($1 / 8)))
	echo "$v"
}
# sign_round CURVE CSR-DIR OUT-DIR TRANSCRIPT: one batch between two raw loops; appends
# "ratio cert/s raw/s seconds KiB calls" to $T/rounds-CURVE.txt.
sign_round() {
	local c=$1 before after rate
	before=$(raw_sign "$c")
	sign_batch "$T/ca$c" "k$c" "$T/ca$c/root.pem" "$2" "$3" "$4"
	after=$(raw_sign "$c")
	rate=$(div "$BATCH" "$SECS")
	raw=$(awk -v a="$before" -v b="$after" 'BEGIN {printf "%.1f", (a + b) / 2}')
	echo "$(div "$rate" "$raw") $rate $raw $SECS $KIB $CALLS" >>"$T/rounds-$c.txt"
}

# The batch (ceremony 01 of the history); with the sign part, each curve's ratio is the
# median of 3 rounds (rounds 2 and 3 in folders of their own, outside the history).
if [ "$REUSE" = 0 ]; then
	python3 tests/bench/make_csrs.py "$T/csr/batch" "$BATCH" batch
	curves=384
	part sign && curves="384 256"
	for c in $curves; do
		: >"$T/rounds-$c.txt"
		if part sign; then
			sign_round "$c" "$T/csr/batch" "$T/ca$c/certs-01" "$T/ca$c/01.jsonl"
		else
			sign_batch "$T/ca$c" "k$c" "$T/ca$c/root.pem" "$T/csr/batch" "$T/ca$c/certs-01" "$T/ca$c/01.jsonl"
			eval "RATE$c=$(div "$BATCH" "$SECS")"
		fi
		timed "seal" "${CER[@]}" transcript seal --token bench --key "s$c" --cert "$T/ca$c/signer.pem" "$T/ca$c/01.jsonl"
		if part sign; then
			for r in 2 3; do
				mkdir -p "$T/rounds/$c-$r"
				sign_round "$c" "$T/csr/batch" "$T/rounds/$c-$r/certs" "$T/rounds/$c-$r/01.jsonl"
			done
			# The median round's figures (sorted by ratio, the middle line).
			read -r RATIO RATE RAW SECS KIB CALLS < <(sort -n "$T/rounds-$c.txt" | sed -n 2p)
			PEAK=$(awk '$5 > m {m = $5} END {print m}' "$T/rounds-$c.txt")
			ROUNDS=$(awk '{printf "%s%s", (NR > 1 ? ", " : ""), $1}' "$T/rounds-$c.txt")
			eval "R$c=$RATIO RATE$c=$RATE RAW$c=$RAW BATCH_SECS$c=$SECS BATCH_KIB$c=$PEAK BATCH_CALLS$c=$CALLS ROUNDS$c=\"$ROUNDS\""
		fi
	done
fi

# By hand: one openssl process per certificate, the key through libp11's engine.
ENGINE_SO=$(dpkg -L libengine-pkcs11-openssl 2>/dev/null | grep '/pkcs11\.so$' | head -n1 || true)
SHELL_N=40
SHELL_RATE=0
if part shell && [ -n "$ENGINE_SO" ]; then
	cat >"$T/openssl.cnf" <<CNF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE_SO
MODULE_PATH = $CEREMONY_MODULE
[v3_ica]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
certificatePolicies = 1.3.6.1.4.1.32473.1.1
CNF
	python3 tests/bench/make_csrs.py "$T/csr/shell" "$SHELL_N" shell
	mkdir -p "$T/shell"
	cat >"$T/shell.sh" <<SH
set -e
for f in $T/csr/shell/*.csr; do
	OPENSSL_CONF=$T/openssl.cnf openssl x509 -req -in "\$f" -CA $T/ca384/root.pem -engine pkcs11 \
		-CAkeyform engine -CAkey "pkcs11:token=bench;object=k384;type=private?pin-value=user-pin-1234" \
		-sha384 -set_serial "0x\$(openssl rand -hex 16)" -days 3650 -extfile $T/openssl.cnf \
		-extensions v3_ica -out "$T/shell/\$(basename "\$f" .csr).pem" 2>/dev/null
done
SH
	timed "by hand" bash "$T/shell.sh"
	openssl verify -CAfile "$T/ca384/root.pem" "$T/shell"/*.pem >/dev/null
	SHELL_RATE=$(div "$SHELL_N" "$SECS")
fi

# A history of $HISTORY certificates: sealed ceremonies of 250 after the batch.
if [ "$REUSE" = 0 ] && { part history || part audit; }; then
	prev=$T/ca384/01.jsonl
	have=$BATCH
	i=1
	while [ "$have" -lt "$HISTORY" ]; do
		i=$((i + 1))
		num=$(printf '%02d' "$i")
		n=$((HISTORY - have < 250 ? HISTORY - have : 250))
		python3 tests/bench/make_csrs.py "$T/csr/h$num" "$n" "h$num"
		mkdir -p "$T/ca384/certs-$num"
		"${CER[@]}" --previous "$prev" cert sign --token bench --key k384 --issuer "$T/ca384/root.pem" \
			--profile "$PROFILE" --csr-dir "$T/csr/h$num" --out-dir "$T/ca384/certs-$num" \
			--transcript "$T/ca384/$num.jsonl" --expect-file "$(pins_for "$T/csr/h$num")" >/dev/null
		cer transcript seal --token bench --key s384 --cert "$T/ca384/signer.pem" "$T/ca384/$num.jsonl" >/dev/null
		prev=$T/ca384/$num.jsonl
		have=$((have + n))
	done
	python3 tests/bench/make_csrs.py "$T/csr/single" 12 single
	mv "$T/csr/single/single-0011.csr" "$T/csr/single/single-empty.csr"
	mv "$T/csr/single/single-0012.csr" "$T/csr/single/single-full.csr"
	touch "$T/history-complete"
fi

# One cert sign beside that history, and beside none (median of 5 each).
if part history; then
	mkdir -p "$T/single"
	# One untimed call each first: the page cache and the history's index are warm, as
	# they are for the history's own calls (BENCH_DIR may hold another build's index).
	for which in empty full; do
		case $which in
		empty) hist=$T/empty-history ;;
		full) hist=$T/ca384 ;;
		esac
		timed "warm-up $which" "${CER[@]}" cert sign --token bench --key k384 --issuer "$T/ca384/root.pem" \
			--profile "$PROFILE" --csr "$T/csr/single/single-$which.csr" --out "$T/single/warm-$which.pem" \
			--history "$hist" --transcript "$T/single/warm-$which.jsonl" \
			--expect-file "$(pins_for "$T/csr/single/single-$which.csr")"
	done
	for k in 1 2 3 4 5; do
		for which in empty full; do
			case $which in
			empty) hist=$T/empty-history num=$((k * 2 - 1)) ;;
			full) hist=$T/ca384 num=$((k * 2)) ;;
			esac
			csr=$T/csr/single/single-$(printf '%04d' "$num").csr
			timed "single $which" "${CER[@]}" cert sign --token bench --key k384 --issuer "$T/ca384/root.pem" \
				--profile "$PROFILE" --csr "$csr" --out "$T/single/$which-$k.pem" --history "$hist" \
				--transcript "$T/single/$which-$k.jsonl" --expect-file "$(pins_for "$csr")"
			echo "$SECS" >>"$T/single-$which.txt"
		done
	done
	SINGLE_EMPTY=$(median <"$T/single-empty.txt")
	SINGLE_FULL=$(median <"$T/single-full.txt")
fi

# audit of that history vs openssl verify of every certificate + sha256sum of every
# file: 3 rounds, each the audit then the baseline; the median round's ratio.
if part audit; then
	NCERTS=$(ls "$T"/ca384/certs-*/*.pem | grep -vc -- '-chain\.pem$')
	AUDIT_CEREMONIES=$(ls "$T"/ca384/*.jsonl | wc -l)
	cat >"$T/baseline.sh" <<SH
set -e
ls $T/ca384/certs-*/*.pem | grep -v -- '-chain\.pem\$' | xargs -P 2 -n 500 openssl verify -CAfile $T/ca384/root.pem >/dev/null
find $T/ca384 $T/csr -type f -print0 | xargs -0 -P 2 -n 1000 sha256sum >/dev/null
SH
	: >"$T/audit-rounds.txt"
	for r in 1 2 3; do
		timed "audit" "$CEREMONY" audit --root "$T/ca384/root.pem" "$T/ca384"
		a=$SECS
		timed "openssl verify + sha256sum" bash "$T/baseline.sh"
		echo "$(div "$a" "$SECS") $a $SECS" >>"$T/audit-rounds.txt"
	done
	read -r ARATIO AUDIT_SECS BASE_SECS < <(sort -n "$T/audit-rounds.txt" | sed -n 2p)
	AROUNDS=$(awk '{printf "%s%s", (NR > 1 ? ", " : ""), $1}' "$T/audit-rounds.txt")
fi

# Backup creation at the test Argon2id cost: 10-of-16 vs 3-of-5, the median of 5 runs
# each, alternating (one run is ~0.05 s for 3-of-5: a single run is mostly noise),
# fresh cards each.
backup_time() { # K N REP
	local k=$1 nn=$2 rep=$3 cards="" pins="" passes=""
	for j in $(seq 1 "$nn"); do
		new_token "c$k-$nn-$rep-$j" "$T/transcripts/cards.jsonl"
		printf 'lantern orbit cactus meadow %s' "$j" >"$T/pins/pass$j"
		cards="$cards${cards:+,}c$k-$nn-$rep-$j"
		pins="$pins${pins:+,}file:$T/pins/user"
		passes="$passes${passes:+,}file:$T/pins/pass$j"
	done
	timed "backup $k-of-$nn" "${CER[@]}" backup create --token bench --key k256 --threshold "$k" --shares "$nn" \
		--cards "$cards" --card-pin-sources "$pins" --passphrase-sources "$passes" \
		--out "$T/out/b$k-$nn-$rep.blob" --internal-record "$T/out/b$k-$nn-$rep.json" \
		--transcript "$T/transcripts/b$k-$nn-$rep.jsonl" --test-cost
}
if part backup; then
	: >"$T/backup-35.txt"
	: >"$T/backup-1016.txt"
	for rep in 1 2 3 4 5; do
		backup_time 3 5 "$rep"
		echo "$SECS" >>"$T/backup-35.txt"
		backup_time 10 16 "$rep"
		echo "$SECS" >>"$T/backup-1016.txt"
	done
	B35=$(median <"$T/backup-35.txt")
	B1016=$(median <"$T/backup-1016.txt")
fi

# Results: every key this run measured, each ratio against its baseline of this run.
json=()
table=()
row() { table+=("$(printf '%-34s %9s   %s' "$1" "$2" "$3")"); }
if part sign; then
	RSS=$(awk -v k="$BATCH_KIB384" 'BEGIN {printf "%.1f", k / 1024}')
	json+=("\"sign_ratio_p384\": {\"ratio\": $R384, \"rounds\": [$ROUNDS384], \"batch\": $BATCH, \"calls\": $BATCH_CALLS384, \"batch_seconds\": $BATCH_SECS384, \"batch_cert_per_s\": $RATE384, \"raw_c_sign_per_s\": $RAW384, \"target\": 0.6}")
	json+=("\"sign_ratio_p256\": {\"ratio\": $R256, \"rounds\": [$ROUNDS256], \"batch\": $BATCH, \"calls\": $BATCH_CALLS256, \"batch_seconds\": $BATCH_SECS256, \"batch_cert_per_s\": $RATE256, \"raw_c_sign_per_s\": $RAW256, \"target\": 0.6}")
	json+=("\"peak_rss_batch_mib\": {\"value\": $RSS, \"batch\": $BATCH, \"peak_rss_kib_p384\": $BATCH_KIB384, \"peak_rss_kib_p256\": $BATCH_KIB256}")
	row sign_ratio_p384 "$R384" "$RATE384 cert/s ($BATCH in $BATCH_CALLS384 call(s), ${BATCH_SECS384} s) / raw C_Sign $RAW384/s; rounds $ROUNDS384"
	row sign_ratio_p256 "$R256" "$RATE256 cert/s ($BATCH in $BATCH_CALLS256 call(s), ${BATCH_SECS256} s) / raw C_Sign $RAW256/s; rounds $ROUNDS256"
fi
if part shell; then
	SPEEDUP=$(div "$RATE384" "$SHELL_RATE")
	json+=("\"batch_speedup_vs_shell\": {\"ratio\": $SPEEDUP, \"batch_cert_per_s\": $RATE384, \"shell_cert_per_s\": $SHELL_RATE, \"shell_certificates\": $SHELL_N}")
	row batch_speedup_vs_shell "$SPEEDUP" "$RATE384 cert/s / by hand $SHELL_RATE cert/s"
fi
if part history; then
	HOVER=$(div "$SINGLE_FULL" "$SINGLE_EMPTY")
	json+=("\"history_overhead\": {\"ratio\": $HOVER, \"history_certificates\": $HISTORY, \"full_seconds_median\": $SINGLE_FULL, \"empty_seconds_median\": $SINGLE_EMPTY, \"runs\": 5, \"target\": 1.5}")
	row history_overhead "$HOVER" "${SINGLE_FULL} s beside $HISTORY certificates / ${SINGLE_EMPTY} s empty"
fi
if part audit; then
	json+=("\"audit_ratio_vs_openssl_verify\": {\"ratio\": $ARATIO, \"rounds\": [$AROUNDS], \"audit_seconds\": $AUDIT_SECS, \"baseline_seconds\": $BASE_SECS, \"ceremonies\": $AUDIT_CEREMONIES, \"certificates\": $NCERTS, \"target\": 1.0}")
	row audit_ratio_vs_openssl_verify "$ARATIO" "audit ${AUDIT_SECS} s ($AUDIT_CEREMONIES ceremonies, $NCERTS certificates) / ${BASE_SECS} s; rounds $AROUNDS"
fi
if part backup; then
	BRATIO=$(div "$B1016" "$B35")
	json+=("\"backup_10of16_vs_3of5_test_cost\": {\"ratio\": $BRATIO, \"seconds_10of16\": $B1016, \"seconds_3of5\": $B35, \"runs\": 5, \"target\": 5.0}")
	row backup_10of16_vs_3of5_test_cost "$BRATIO" "${B1016} s / ${B35} s"
fi
if part sign; then
	row peak_rss_batch_mib "$RSS" "the $BATCH-certificate call (P-384)"
fi
mkdir -p "$(dirname "$RESULTS")"
{
	printf '{\n  "machine": {"cores": %s, "date": "%s", "load_average": "%s", "parts": "%s"}' \
		"$(nproc)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$PARTS"
	for j in "${json[@]}"; do printf ',\n  %s' "$j"; done
	printf '\n}\n'
} >"$RESULTS"
jq . "$RESULTS" >/dev/null
printf '%-34s %9s   %s\n' key value "raw figures"
printf '%s\n' "${table[@]}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrote $RESULTS"

# Fault sweeps through tests/faultp11 (sourced by test_faults.sh after lib.sh).
#
# An operation NAME is three shell functions the test defines:
#   op_NAME I        run the operation for point I (I = 0: the tracing run), with
#                    outputs that depend on I so each point starts clean
#   outputs_NAME I   the files a failed run at point I must not have written
#   done_NAME I      succeeds when point I's operation is complete (outputs there)
#   reset_NAME I     (optional) undoes a successful run, so the next point starts alike
#                    (restore_to "$SWEEP_BEFORE" TOKEN... does it for objects)
# sweep NAME POLICY TOKEN... fails call I of the traced run for each chosen I and
# checks: a non-zero exit, a message naming the fault (CKR_DEVICE_ERROR), no output
# file, the transcript verifies, no object added or removed on any TOKEN that the
# message does not name (pkcs11-tool's view), and a rerun without the fault succeeds.
# A fault in the closing C_Logout/C_CloseSession of a run that already finished may
# exit 0: then the operation must be complete.
# POLICY "all" fails every call; "sign" only C_SignInit and C_Sign; "from:C_X" the
# calls from the first C_X on, as "sample" would choose them; "sample" depends
# on FAULTS_LEVEL: quick (make check) the first and last call of each function that
# changes state, logs in, opens or closes a session or signs, and the first call of
# each other function; sample every such call and the first of each other; full
# (or FAULTS_FULL=1) every call.

SHIM=$(dirname "$CEREMONY")/faultp11.so
export LC_ALL=C # sort and comm must agree
FAULT_RV=CKR_DEVICE_ERROR
FAULT_TIMEOUT=${FAULT_TIMEOUT:-120}

# lib.sh's cer, bounded: a command that waits for ever (libp11 0.4.12 did, after a
# failed C_OpenSession of its own) fails its point with exit 124 instead of
# stopping the sweep.
cer() {
	timeout "$FAULT_TIMEOUT" "$CEREMONY" --pin-source "file:$T/pins/user" \
		--so-pin-source "file:$T/pins/so" "$@"
}
FAULT_POINTS=0
FAULT_CLEAN=0
FAULT_SURVIVED=0

# Every object on token LABEL as "class|label|id", sorted; read by OpenSC, not by us.
objects_of() {
	pkcs11-tool --module "$FAULTP11_MODULE" --token-label "$1" --login \
		--pin "$(cat "$T/pins/user")" --list-objects 2>/dev/null |
		awk -v tok="$1" '
			function flush() { if (c != "") print tok "|" c "|" l "|" i; c = ""; l = ""; i = "" }
			/^[^ ]/ { flush(); c = $1 " " $2 }
			/^  label:/ { sub(/^  label: */, ""); gsub(/\x27/, ""); l = $0 }
			/^  ID:/ { i = $2 }
			END { flush() }' | sort
}

snapshot() {
	local t
	for t in "$@"; do objects_of "$t"; done | sort
}

# The calls to fail for POLICY, from trace file $1. FAULTS_LEVEL (quick by default,
# for make check) widens every POLICY but "all": sample = the issue's sweep, full =
# every call.
STATE_CALLS='^C_(OpenSession|CloseSession|Login|Logout|InitToken|InitPIN|SetPIN|CreateObject|CopyObject|DestroyObject|SetAttributeValue|GenerateKey|GenerateKeyPair|WrapKey|UnwrapKey|DeriveKey|SignInit|Sign|SignUpdate|SignFinal|GenerateRandom|SeedRandom)$'
fault_points() {
	local trace=$1 policy=$2 level=${FAULTS_LEVEL:-quick} from
	[ "${FAULTS_FULL:-0}" = 1 ] && level=full
	if [[ $policy == from:* ]]; then
		# only the calls from the first call of a function on (what differs from
		# an operation swept already); every level but full
		from=$(awk -v f="${policy#from:}" '$2 == f {print NR; exit}' "$trace")
		if [ "$level" != full ]; then
			tail -n +"$from" "$trace" >"$trace.tail"
			FAULTS_LEVEL=$level fault_points "$trace.tail" sample | awk -v o="$from" '{print $1 + o - 1}'
			return
		fi
	fi
	if [ "$policy" = all ] || [ "$level" = full ]; then
		awk '{print NR}' "$trace"
	elif [ "$policy" = sign ]; then
		awk '$2 ~ /^C_Sign/ { print NR }' "$trace"
	elif [ "$level" = sample ]; then
		# every call that changes state, logs in, opens or closes a session or
		# signs, and the first call of each other function
		awk -v st="$STATE_CALLS" '$2 ~ st || !seen[$2]++ { print NR }' "$trace"
	else
		# quick: the first and the last call of each state-changing function, the
		# first of each other function
		awk -v st="$STATE_CALLS" '
			!seen[$2]++ { print NR; next }
			$2 ~ st { last[$2] = NR }
			END { for (f in last) print last[f] }' "$trace" | sort -n
	fi
}

# restore_to SNAPSHOT TOKEN...: delete (with pkcs11-tool) every object on the tokens that
# SNAPSHOT does not hold, so the next point meets the same objects (and the same calls).
restore_to() {
	local snap=$1 obj tok cls lab type
	shift
	while IFS='|' read -r tok cls lab _; do
		[ -n "$tok" ] || continue
		case $cls in
		"Data object") type=data ;;
		"Private Key") type=privkey ;;
		"Public Key") type=pubkey ;;
		*) type=secrkey ;;
		esac
		pkcs11-tool --module "$FAULTP11_MODULE" --token-label "$tok" --login \
			--pin "$(cat "$T/pins/user")" --delete-object --type "$type" --label "$lab" >/dev/null 2>&1
	done < <(comm -13 <(printf '%s\n' "$snap") <(snapshot "$@"))
}

# sweep NAME POLICY TOKEN...
sweep() {
	local name=$1 policy=$2
	shift 2
	local trace="$T/trace-$name" i k fn err rc before after added removed problems f obj o survived n0=$FAULT_POINTS c0=$FAULT_CLEAN s0=$FAULT_SURVIVED
	if [ -n "${FAULTS_ONLY:-}" ] && [[ " $FAULTS_ONLY " != *" $name "* ]]; then
		echo "# $name: not swept (FAULTS_ONLY)"
		return
	fi
	rm -f "$trace"
	if ! FAULTP11_TRACE="$trace" op_"$name" 0 >"$T/out-$name-0" 2>&1; then
		fail "$name: runs without a fault" "$(cat "$T/out-$name-0")"
		return
	fi
	if declare -F reset_"$name" >/dev/null; then reset_"$name" 0; fi
	for i in $(fault_points "$trace" "$policy"); do
		fn=$(sed -n "${i}p" "$trace" | cut -d' ' -f2)
		# The k-th call of fn: other calls may vary a little from run to run.
		k=$(head -n "$i" "$trace" | awk -v f="$fn" '$2 == f' | wc -l)
		before=$(snapshot "$@")
		SWEEP_BEFORE=$before
		err=$(FAULTP11_FUNC=$fn FAULTP11_FAIL=$k FAULTP11_RV=$FAULT_RV op_"$name" "$i" 2>&1 >/dev/null)
		rc=$?
		after=$(snapshot "$@")
		added=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after"))
		removed=$(comm -23 <(printf '%s\n' "$before") <(printf '%s\n' "$after"))
		problems=""
		[ "$rc" -eq 124 ] && problems="; it did not end within ${FAULT_TIMEOUT} s (a wait without bound)"
		survived=""
		if [ "$rc" -eq 0 ]; then
			# The operation got past the fault (a logout at the end, a card skipped
			# for the next one, a session object that dies with its session): it
			# must then be complete, as a tool we did not write sees it.
			if done_"$name" "$i" >/dev/null 2>&1; then
				survived=" (survived: complete)"
				FAULT_SURVIVED=$((FAULT_SURVIVED + 1))
			else
				problems="$problems; exit 0 although $fn failed, and the operation is incomplete"
			fi
		else
			printf '%s' "$err" | grep -q "$FAULT_RV" ||
				problems="$problems; the message does not name $FAULT_RV"
			for f in $(outputs_"$name" "$i"); do
				[ -e "$f" ] && problems="$problems; $f was written"
			done
			# Objects the run left or removed must be named by the message.
			while IFS= read -r obj; do
				[ -n "$obj" ] || continue
				o=$(printf '%s' "$obj" | cut -d'|' -f3)
				printf '%s' "$err" | grep -qF -- "\"$o\"" ||
					problems="$problems; object $obj changed but the message does not name it"
			done <<<"$added
$removed"
		fi
		if [ -n "${TR:-}" ] && [ -f "$TR" ] &&
			! "$CEREMONY" transcript verify --allow-unsealed --allow-test-cost "$TR" >/dev/null 2>&1; then
			problems="$problems; the transcript no longer verifies"
		fi
		if [ "$rc" -ne 0 ] && ! op_"$name" "$i" >"$T/rerun.log" 2>&1; then
			problems="$problems; a rerun without the fault fails: $(tail -1 "$T/rerun.log")"
		fi
		if declare -F reset_"$name" >/dev/null; then reset_"$name" "$i"; fi
		FAULT_POINTS=$((FAULT_POINTS + 1))
		if [ -z "$problems" ]; then
			FAULT_CLEAN=$((FAULT_CLEAN + 1))
			pass "$name: $fn fails (call $i, its #$k)$survived"
		else
			fail "$name: $fn fails (call $i, its #$k)" "rc $rc: ${problems#; }; stderr: $err"
		fi
	done
	echo "# table: $name: $(wc -l <"$trace") calls, $((FAULT_POINTS - n0)) failed in turn, $((FAULT_CLEAN - c0)) clean ($((FAULT_SURVIVED - s0)) of them survived)"
}

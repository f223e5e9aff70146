# Fault sweeps through tests/faultp11 (sourced by test_faults.sh after lib.sh).
#
# An operation NAME is three shell functions the test defines:
#   op_NAME I        run the operation for point I (I = 0: the tracing run), with
#                    outputs that depend on I so each point starts clean
#   outputs_NAME I   the files a failed run at point I must not have written
#   done_NAME I      succeeds when point I's operation is complete (outputs there)
# sweep NAME POLICY TOKEN... fails call I of the traced run for each chosen I and
# checks: a non-zero exit, a message naming the fault (CKR_DEVICE_ERROR), no output
# file, the transcript verifies, no object added or removed on any TOKEN that the
# message does not name (pkcs11-tool's view), and a rerun without the fault succeeds.
# A fault in the closing C_Logout/C_CloseSession of a run that already finished may
# exit 0: then the operation must be complete.
# POLICY "all" fails every call; "sample" fails every call that changes state, logs
# in, opens or closes a session or signs, and the first call of each other function;
# "sign" only C_SignInit and C_Sign (FAULTS_FULL=1: every call).

SHIM=$(dirname "$CEREMONY")/faultp11.so
FAULT_RV=CKR_DEVICE_ERROR
FAULT_POINTS=0
FAULT_CLEAN=0

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
	for t in "$@"; do objects_of "$t"; done
}

# The calls to fail for POLICY, from trace file $1.
fault_points() {
	local trace=$1 policy=$2
	if [ "$policy" = sign ]; then
		awk '$2 ~ /^C_Sign/ { print NR }' "$trace"
		return
	fi
	if [ "$policy" = all ] || [ "${FAULTS_FULL:-0}" = 1 ]; then
		awk '{print NR}' "$trace"
		return
	fi
	awk '
		$2 ~ /^C_(OpenSession|CloseSession|Login|Logout|InitToken|InitPIN|SetPIN|CreateObject|CopyObject|DestroyObject|SetAttributeValue|GenerateKey|GenerateKeyPair|WrapKey|UnwrapKey|DeriveKey|SignInit|Sign|SignUpdate|SignFinal|GenerateRandom|SeedRandom)$/ { print NR; next }
		!seen[$2]++ { print NR }' "$trace"
}

# sweep NAME POLICY TOKEN...
sweep() {
	local name=$1 policy=$2
	shift 2
	local trace="$T/trace-$name" i fn err rc before after added removed problems f obj o
	rm -f "$trace"
	if ! FAULTP11_TRACE="$trace" op_"$name" 0 >"$T/out-$name-0" 2>&1; then
		fail "$name: runs without a fault" "$(cat "$T/out-$name-0")"
		return
	fi
	for i in $(fault_points "$trace" "$policy"); do
		fn=$(sed -n "${i}p" "$trace" | cut -d' ' -f2)
		before=$(snapshot "$@")
		err=$(FAULTP11_FAIL=$i FAULTP11_RV=$FAULT_RV op_"$name" "$i" 2>&1 >/dev/null)
		rc=$?
		after=$(snapshot "$@")
		added=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after"))
		removed=$(comm -23 <(printf '%s\n' "$before") <(printf '%s\n' "$after"))
		problems=""
		if [ "$rc" -eq 0 ]; then
			case $fn in
			C_Logout | C_CloseSession) done_"$name" "$i" >/dev/null 2>&1 || problems="$problems; exit 0 but the operation is incomplete" ;;
			*) problems="$problems; exit 0 although $fn failed" ;;
			esac
		else
			printf '%s' "$err" | grep -q "$FAULT_RV" ||
				problems="$problems; the message does not name $FAULT_RV"
			for f in $(outputs_"$name" "$i"); do
				[ -e "$f" ] && problems="$problems; $f was written"
			done
			# Objects the run left or removed must be named by the message.
			for obj in $added $removed; do
				o=$(printf '%s' "$obj" | cut -d'|' -f4)
				printf '%s' "$err" | grep -qF -- "\"$o\"" ||
					problems="$problems; object $obj changed but the message does not name it"
			done
		fi
		if [ -n "${TR:-}" ] && [ -f "$TR" ] &&
			! "$CEREMONY" transcript verify --allow-unsealed "$TR" >/dev/null 2>&1; then
			problems="$problems; the transcript no longer verifies"
		fi
		if [ "$rc" -ne 0 ] && ! op_"$name" "$i" >/dev/null 2>&1; then
			problems="$problems; a rerun without the fault fails"
		fi
		FAULT_POINTS=$((FAULT_POINTS + 1))
		if [ -z "$problems" ]; then
			FAULT_CLEAN=$((FAULT_CLEAN + 1))
			pass "$name: $fn fails (call $i)"
		else
			fail "$name: $fn fails (call $i)" "rc $rc: ${problems#; }; stderr: $err"
		fi
	done
	echo "# $name: $(wc -l <"$trace") calls traced"
}

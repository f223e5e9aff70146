#!/usr/bin/env bash
# ceremony share split / combine: round trips, refusals with their reasons, and
# interoperability with the official SLIP-39 vectors (read with jq, not our code).
cd "$(dirname "$0")/../.."
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

T=$(mktemp -d /tmp/ceremony-share.XXXXXX)
on_exit 'rm -rf "$T"'
VECTORS=tests/vectors/slip39/vectors.json

SECRET=8f1e0c5a9b27d4e36a01f2c3b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7
printf '%s\n' "$SECRET" >"$T/secret"
printf '%s' "correct horse battery staple" >"$T/pass"
printf '%s' "TREZOR" >"$T/trezor"

split() { "$CEREMONY" share split --secret-source "file:$T/secret" "$@"; }
combine() { # FILE [options]: combine the mnemonics in FILE
	local f=$1
	shift
	"$CEREMONY" share combine "$@" <"$f"
}
lines() { sed -n "$2" "$1"; } # FILE SED-SCRIPT, e.g. 2p or 1,3p

# --- one group, 3 of 5 -------------------------------------------------------
if split --threshold 3 --shares 5 >"$T/s35" 2>"$T/s35.err"; then
	pass "split 3-of-5 succeeds"
else
	fail "split 3-of-5 succeeds" "$(cat "$T/s35.err")"
fi
check "split prints 5 mnemonics of 33 words" \
	test "$(wc -l <"$T/s35")" -eq 5 -a "$(awk '{print NF}' "$T/s35" | sort -u)" = 33
check "split shows the identifier on stderr only" grep -q "identifier" "$T/s35.err"

for subset in "1p;2p;3p" "5p;3p;1p" "2p;4p;5p" "1p;4p;5p"; do
	sed -n "$subset" "$T/s35" >"$T/sub"
	out=$(combine "$T/sub" 2>&1)
	if [ "$out" = "$SECRET" ]; then pass "combine shares $subset gives the secret"; else
		fail "combine shares $subset gives the secret" "$out"; fi
done

# blank lines, CRLF, extra spaces and capitals are accepted
{ echo; lines "$T/s35" 2p | tr a-z A-Z; echo "   "; lines "$T/s35" 4p | sed 's/ /   /g; s/$/\r/'; echo
	lines "$T/s35" 5p; echo; } >"$T/messy"
out=$(combine "$T/messy" 2>&1)
if [ "$out" = "$SECRET" ]; then pass "combine ignores blank lines, case, spacing and CR"; else
	fail "combine ignores blank lines, case, spacing and CR" "$out"; fi

lines "$T/s35" 1,2p >"$T/two"
expect_fail "two of a 3-of-5 split are refused" 1 "insufficient shares in group 1: 2 given" \
	combine "$T/two"
check "a refused combine prints nothing on stdout" test -z "$(combine "$T/two" 2>/dev/null)"
lines "$T/s35" 1,4p >"$T/four"
expect_fail "four of a 3-of-5 split are refused" 1 "wrong number of shares in group 1" \
	combine "$T/four"
{ lines "$T/s35" 1p; lines "$T/s35" 1p; lines "$T/s35" 2p; } >"$T/dup"
expect_fail "a repeated share is refused" 1 "same member index" combine "$T/dup"

# a changed word: first word of share 2 replaced by another list word
{ lines "$T/s35" 1p; lines "$T/s35" 2p | awk '{ $5 = ($5 == "zero" ? "yoga" : "zero"); print }'
	lines "$T/s35" 3p; } >"$T/typo"
expect_fail "a changed word is refused by the checksum" 1 "share 2: invalid checksum" \
	combine "$T/typo"
{ lines "$T/s35" 1p; lines "$T/s35" 2p | awk '{ $7 = "notaword"; print }'; lines "$T/s35" 3p; } \
	>"$T/nonword"
expect_fail "a word outside the list is refused without echoing it" 1 \
	"share 2: word 7 is not in the SLIP-39 word list$" combine "$T/nonword"
lines "$T/s35" 1p | awk '{ NF = 32; print }' >"$T/short"
expect_fail "a truncated share is refused" 1 "share 1: invalid (length|checksum)" \
	combine "$T/short"

# mixed shares of two splits of the same secret
split --threshold 3 --shares 5 >"$T/other" 2>/dev/null
{ lines "$T/s35" 1,2p; lines "$T/other" 3p; } >"$T/mixed"
expect_fail "shares of two splits are refused" 1 "identifier" combine "$T/mixed"

: >"$T/empty"
expect_fail "no mnemonics on stdin is refused" 1 "no mnemonics" combine "$T/empty"

# --- passphrase --------------------------------------------------------------
split --threshold 2 --shares 3 --passphrase-source "file:$T/pass" --iteration-exponent 1 \
	>"$T/p23" 2>/dev/null
lines "$T/p23" 2,3p >"$T/p23.sub"
out=$(combine "$T/p23.sub" --passphrase-source "file:$T/pass" 2>&1)
if [ "$out" = "$SECRET" ]; then pass "passphrase round trip"; else
	fail "passphrase round trip" "$out"; fi
out=$(combine "$T/p23.sub" 2>&1)
if printf '%s' "$out" | grep -qxE '[0-9a-f]{64}' && [ "$out" != "$SECRET" ]; then
	pass "no passphrase source means the empty passphrase (another secret, no error)"
else
	fail "no passphrase source means the empty passphrase (another secret, no error)" "$out"
fi

# --- groups: 2 of (2/3, 1/1, 3/4) --------------------------------------------
split --group-threshold 2 --group 2/3 --group 1/1 --group 3/4 --no-extendable >"$T/g" \
	2>/dev/null
check "group split prints 8 mnemonics and 2 blank separator lines" \
	test "$(grep -c . "$T/g")" -eq 8 -a "$(grep -c '^$' "$T/g")" -eq 2
grep . "$T/g" >"$T/g.all"
{ lines "$T/g.all" 4p; lines "$T/g.all" 5,7p; } >"$T/g.ok"
out=$(combine "$T/g.ok" 2>&1)
if [ "$out" = "$SECRET" ]; then pass "group 2 whole and 3 of group 3 give the secret"; else
	fail "group 2 whole and 3 of group 3 give the secret" "$out"; fi
{ lines "$T/g.all" 1,2p; lines "$T/g.all" 4p; } >"$T/g.ok2"
check "2 of group 1 and group 2 give the secret" test "$(combine "$T/g.ok2")" = "$SECRET"
lines "$T/g.all" 5,7p >"$T/g.one"
expect_fail "one group of two needed is refused" 1 "insufficient groups" combine "$T/g.one"
{ lines "$T/g.all" 4p; lines "$T/g.all" 5,6p; } >"$T/g.few"
expect_fail "too few members in a group are refused" 1 "insufficient shares in group 3" \
	combine "$T/g.few"

# --- bad input to split ------------------------------------------------------
printf '0011223344556677889900aabbccddeeff\n' | head -c 33 >"$T/odd"
expect_fail "an odd number of hex digits is refused" 1 "even number" \
	"$CEREMONY" share split --secret-source "file:$T/odd" --threshold 2 --shares 3
printf '00112233445566778899aabbccddee\n' >"$T/short15"
expect_fail "a 15-byte secret is refused" 1 "15 bytes cannot be shared" \
	"$CEREMONY" share split --secret-source "file:$T/short15" --threshold 2 --shares 3
printf '00112233445566778899aabbccddeezz\n' >"$T/nothex"
expect_fail "a non-hex secret is refused" 1 "not a hex digit" \
	"$CEREMONY" share split --secret-source "file:$T/nothex" --threshold 2 --shares 3
expect_fail "split without --secret-source is a usage error" 2 "--secret-source is required" \
	"$CEREMONY" share split --threshold 2 --shares 3
expect_fail "threshold above shares is a usage error" 2 "--threshold \"4\"" \
	split --threshold 4 --shares 3
expect_fail "17 shares is a usage error" 2 "--shares \"17\"" split --threshold 2 --shares 17
expect_fail "a malformed --group is a usage error" 2 "--group \"3/2\"" \
	split --group-threshold 1 --group 3/2
expect_fail "group threshold above the groups is a usage error" 2 "--group-threshold \"3\"" \
	split --group-threshold 3 --group 1/1 --group 2/2
check "--help mentions the empty default passphrase" \
	sh -c "'$CEREMONY' share split --help | grep -q 'passphrase is EMPTY'"

# --- interoperability: the official vectors through the CLI -------------------
if ! command -v jq >/dev/null; then
	fail "jq is installed (needed to read $VECTORS)"
else
	n=$(jq length "$VECTORS")
	good=0 bad=0 valid=0 invalid=0
	for i in $(seq 0 $((n - 1))); do
		jq -r ".[$i][1][]" "$VECTORS" >"$T/v"
		want=$(jq -r ".[$i][2]" "$VECTORS")
		got=$(combine "$T/v" --passphrase-source "file:$T/trezor" 2>"$T/v.err")
		rc=$?
		if [ -n "$want" ]; then
			valid=$((valid + 1))
			if [ $rc -eq 0 ] && [ "$got" = "$want" ]; then good=$((good + 1)); else
				echo "    vector $((i + 1)): rc $rc, got '$got', want '$want'"; fi
		else
			invalid=$((invalid + 1))
			if [ $rc -eq 1 ] && [ -z "$got" ] && [ -s "$T/v.err" ]; then
				bad=$((bad + 1))
			else
				echo "    vector $((i + 1)): rc $rc, expected a refusal"
			fi
		fi
	done
	check "all $valid valid vectors combine to their secret via the CLI" \
		test "$good" -eq "$valid" -a "$valid" -eq 15
	check "all $invalid invalid vectors are refused with exit 1 via the CLI" \
		test "$bad" -eq "$invalid" -a "$invalid" -eq 30
fi

finish

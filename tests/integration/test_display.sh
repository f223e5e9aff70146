#!/usr/bin/env bash
# What reaches the terminal (issue 9.12): control, bidi and invisible characters from
# scripts are refused and from transcripts are escaped, never sent raw; the dry run
# quotes every word so a shell reads back exactly the argument (quotes included); the
# printout marks what it truncates; a YAML text holding NUL is refused. Needs no HSM.
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d /tmp/ceremony-test.XXXXXX)
on_exit 'rm -rf "$T"'
raw() { LC_ALL=C grep -c $'\x1b\|\xe2\x80\xae\|\xc2\x9b' "$1"; }

# Scripts: refused at load, before anything is shown.
printf 'ceremony: x\ntitle: x\nroles: {CA: A}\nacts:\n  - title: a\n    steps:\n      - {role: CA, say: "look \\e]0;owned\\a here", confirm: ok}\n' >"$T/esc.yaml"
expect_fail "a script whose text holds an escape sequence is refused" 1 'holds a control, bidi or invisible character \(U\+001b' \
	"$CEREMONY" run "$T/esc.yaml" --dry-run
printf 'ceremony: x\ntitle: x\nroles: {CA: A}\nacts:\n  - title: a\n    steps:\n      - {role: CA, say: "confirm the \xe2\x80\xaeelif", confirm: ok}\n' >"$T/bidi.yaml"
expect_fail "a script whose text holds a bidi override is refused" 1 'U\+202e' "$CEREMONY" run "$T/bidi.yaml" --dry-run
printf 'ceremony: x\ntitle: x\nroles: {CA: A}\nacts:\n  - title: a\n    steps:\n      - {role: CA, say: "C1 \xc2\x9b31m red", confirm: ok}\n' >"$T/c1.yaml"
expect_fail "a script whose text holds a C1 control is refused" 1 'U\+009b|control characters are not allowed' "$CEREMONY" run "$T/c1.yaml" --dry-run
printf 'ceremony: x\ntitle: x\nroles: {CA: A}\nacts:\n  - title: a\n    steps:\n      - {role: CA, say: "cut\\0here", confirm: ok}\n' >"$T/nul.yaml"
expect_fail "a YAML text holding NUL is refused" 1 'a text holds a NUL character' "$CEREMONY" run "$T/nul.yaml" --dry-run

# The dry run's command lines read back exactly, quotes included.
printf '%s\n' 'ceremony: q' 'title: quoting' 'vars: {who: "O'"'"'Brien & Sons; $(x) `y`", empty: " "}' 'roles: {CA: A}' 'acts:' \
	'  - title: a' '    steps:' '      - {role: CA, say: s, run: [key, show, --token, "${who}", --label, "<x>", --key, "${empty}"]}' >"$T/q.yaml"
"$CEREMONY" run "$T/q.yaml" --dry-run >"$T/q.dry" 2>&1
line=$(grep '\$ ceremony key show' "$T/q.dry" | sed 's/^ *\$ ceremony //')
# shellcheck disable=SC2086
check "a shell reads the dry run's words back exactly" bash -c 'eval "set -- $1"; [ "$4" = "O'"'"'Brien & Sons; \$(x) \`y\`" ] && [ "$6" = "<x>" ] && [ "$8" = " " ]' _ "$line"

# Transcripts: escaped in print and verify, never raw; a long field says it was cut.
python3 - "$T/t.jsonl" <<'PY'
import hashlib, json, os, sys
prev = os.urandom(32).hex(); lines = []
recs = [{"action": "ceremony.begin"},
        {"action": "note\u001b]0;owned\u0007", "details": {"who": "IW \u202egnp.exe", "c1": "\u009b31m", "long": "x" * 3000}}]
for i, r in enumerate(recs, 1):
    rec = {"seq": i, "time": "2026-11-30T10:00:00Z", "prev": prev}; rec.update(r)
    line = json.dumps(rec, separators=(",", ":")); lines.append(line)
    prev = hashlib.sha256(line.encode()).hexdigest()
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
"$CEREMONY" transcript print "$T/t.jsonl" >"$T/print.txt" 2>&1
check "transcript print sends no escape, C1 or bidi character raw" test "$(raw "$T/print.txt")" -eq 0
check "... and shows them escaped" bash -c "grep -qF 'IW \\u{202e}gnp.exe' '$T/print.txt' && grep -qF '\\u{009b}31m' '$T/print.txt' && grep -qF 'note\\x1b]0;owned\\x07' '$T/print.txt'"
check "transcript print marks a truncated field" grep -q 'truncated: 3000 bytes in the transcript' "$T/print.txt"
"$CEREMONY" transcript print --html "$T/t.jsonl" >"$T/print.html" 2>&1
check "the HTML printout sends none raw either" test "$(raw "$T/print.html")" -eq 0
"$CEREMONY" transcript verify --allow-unsealed "$T/t.jsonl" >"$T/verify.txt" 2>&1
check "transcript verify sends none raw" test "$(raw "$T/verify.txt")" -eq 0
# The forged transcript is deliberately not a schema-complete record: not left for the schema check.
rm -f "$T/t.jsonl"
finish

#!/usr/bin/env bash
# One lint table: every rule src/x509/lint.c can fire is listed in docs/lint.md
# (name, what, source, severity) and has a test case of its name in
# tests/unit/test_lint.c that makes it fire; nothing is listed that does not exist.
# Needs no HSM.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

code=$(grep -oE 'LINT\("[a-z0-9-]+"|"lint [a-z0-9-]+:' "$ROOT/src/x509/lint.c" | grep -oE '[a-z]+(-[a-z0-9]+)+' | sort -u)
doc=$(grep -oE '^\| `(cert|crl)-[a-z0-9-]+` \|' "$ROOT/docs/lint.md" | grep -oE '(cert|crl)-[a-z0-9-]+' | sort -u)
tests=$(grep -oE '^\s*\{"(cert|crl)-[a-z0-9-]+", t_' "$ROOT/tests/unit/test_lint.c" | grep -oE '(cert|crl)-[a-z0-9-]+' | sort -u)
check "lint.c fires at least 30 named rules" test "$(printf '%s\n' "$code" | wc -l)" -ge 30
missing=$(comm -23 <(printf '%s\n' "$code") <(printf '%s\n' "$doc"))
if [ -z "$missing" ]; then pass "docs/lint.md lists every rule lint.c fires"; else fail "docs/lint.md lists every rule lint.c fires" "missing: $missing"; fi
extra=$(comm -13 <(printf '%s\n' "$code") <(printf '%s\n' "$doc"))
if [ -z "$extra" ]; then pass "docs/lint.md lists no rule lint.c does not have"; else fail "docs/lint.md lists no rule lint.c does not have" "extra: $extra"; fi
untested=$(comm -23 <(printf '%s\n' "$code") <(printf '%s\n' "$tests"))
if [ -z "$untested" ]; then pass "every rule has a test case that makes it fire"; else fail "every rule has a test case that makes it fire" "untested: $untested"; fi
rows_ok=$(grep -E '^\| `(cert|crl)-' "$ROOT/docs/lint.md" | awk -F'|' 'NF != 6 || $5 ~ /^ *$/ || $4 ~ /^ *$/ {bad=1} END {print bad ? "no" : "yes"}')
check "each row names what it checks, its source and its severity" test "$rows_ok" = yes
if [ -x "$ROOT/build/tests/test_lint" ]; then
	out=$("$ROOT/build/tests/test_lint" 2>&1)
	for n in $code; do
		printf '%s\n' "$out" | grep -qx "\[       OK \] $n" || fail "test case $n passes (the rule fired)" "$(printf '%s\n' "$out" | grep -A3 "$n" | head -5)"
	done
	pass "every rule's test case ran and passed"
fi
finish

#!/usr/bin/env bash
# The grep-checkable style rules hold (tests/style.sh), and the check would catch a violation.
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)

if out=$("$root/tests/style.sh" "$root" 2>&1); then
	pass "no unchecked (void)snprintf in src/"
else
	fail "no unchecked (void)snprintf in src/" "$out"
fi

# Plant an unchecked snprintf in a copy of the tree.
T=$(mktemp -d /tmp/ceremony-style.XXXXXX)
on_exit 'rm -rf "$T"'
cp -r "$root/src" "$T/"
printf 'static void planted(char *b) { (void)snprintf(b, 4, "%%s", "toolong"); }\n' \
	>>"$T/src/base/err.c"
out=$("$root/tests/style.sh" "$T" 2>&1)
rc=$?
expect_eq "the check fails on a planted (void)snprintf" 1 "$rc"
expect_contains "it names the file and line" "$out" "src/base/err.c:"
expect_contains "it says what to use instead" "$out" "text_format"
finish

#!/usr/bin/env bash
# The layer rule holds in the tree, and the check would catch a violation.
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)

if out=$("$root/tests/layers.sh" "$root" 2>&1); then
	pass "no source file includes a header of a higher layer"
else
	fail "no source file includes a header of a higher layer" "$out"
fi

# Plant violations in a copy: a base file using the CLI, an HSM file using ops.
T=$(mktemp -d /tmp/ceremony-layers.XXXXXX)
on_exit 'rm -rf "$T"'
cp -r "$root/src" "$root/include" "$T/"
sed -i '1i #include "ceremony/cli.h"' "$T/src/base/err.c"
sed -i '1i #include "ceremony/backup.h"' "$T/src/hsm/p11.c"
out=$("$root/tests/layers.sh" "$T" 2>&1)
rc=$?
expect_eq "the check fails on a planted violation" 1 "$rc"
expect_contains "it names a base file including the CLI" "$out" \
	'src/base/err.c: layer base includes "ceremony/cli.h" of layer cli'
expect_contains "it names an HSM file including an operation" "$out" \
	'src/hsm/p11.c: layer hsm includes "ceremony/backup.h" of layer ops'
mkdir "$T/src/misc"
out=$("$root/tests/layers.sh" "$T" 2>&1)
expect_contains "a folder that is no layer is named" "$out" "src/misc: a folder that is no layer"
finish

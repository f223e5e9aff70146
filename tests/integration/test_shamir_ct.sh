#!/usr/bin/env bash
# Constant-time check of the GF(256) multiply, inverse and interpolation: build
# tests/ct/ct_gf256.c against build/libceremony.a and run it under valgrind
# memcheck with the secret operands marked undefined; any branch or address
# that depends on them is reported as an uninitialised-value error.
set -u
cd "$(dirname "$0")/../.."
fails=0
ok() { echo "ok - $1"; }
notok() { echo "not ok - $1"; fails=$((fails + 1)); }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v valgrind >/dev/null; then
	echo "valgrind is not installed" >&2
	notok "valgrind available"
	exit 1
fi
# Always the plain build (valgrind cannot run ASan code), even when run-tests.sh
# runs with BUILD=build-san; without it, the two sources the check needs are
# compiled here with the same flags.
if [ -f build/libceremony.a ]; then
	objs=build/libceremony.a
	what="build/libceremony.a"
else
	objs="src/shares/shamir.c src/base/err.c src/base/textbuf.c"
	what="src/shares/shamir.c (build/libceremony.a is not built)"
fi
flags=$(pkg-config --cflags --libs libcrypto libsodium jansson yaml-0.1 p11-kit-1)
# shellcheck disable=SC2086
if cc -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g -Iinclude \
	-o "$tmp/ct_gf256" tests/ct/ct_gf256.c $objs $flags -ldl 2>"$tmp/cc.log"; then
	ok "ct_gf256 builds against $what"
else
	cat "$tmp/cc.log"
	notok "ct_gf256 builds against $what"
	exit 1
fi

valgrind --tool=memcheck --error-exitcode=99 --track-origins=yes \
	"$tmp/ct_gf256" >"$tmp/out" 2>"$tmp/vg"
rc=$?
if grep -q "depends on uninitialised value\|Use of uninitialised value" "$tmp/vg"; then
	cat "$tmp/vg"
	notok "GF(256) multiply, inverse and interpolation do not branch or index on secrets"
else
	ok "GF(256) multiply, inverse and interpolation do not branch or index on secrets"
fi
if [ "$rc" -eq 0 ] && grep -q "product c1 inverse ca" "$tmp/out"; then
	ok "ct_gf256 computes the FIPS-197 values under valgrind"
else
	cat "$tmp/out" "$tmp/vg"
	notok "ct_gf256 computes the FIPS-197 values under valgrind (rc $rc)"
fi
[ "$fails" -eq 0 ]

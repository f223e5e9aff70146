#!/usr/bin/env bash
# PKCS#11 stays in the HSM layer (issue 8): no file outside src/hsm makes a Cryptoki
# call (->C_Name) or looks into the session (p11_int.h). Needs no HSM.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
calls=$(grep -rnE --include='*.c' -e '->C_[A-Z][A-Za-z]+\(' "$ROOT/src" | grep -v "^$ROOT/src/hsm/")
if [ -z "$calls" ]; then pass "no PKCS#11 call outside src/hsm"; else fail "no PKCS#11 call outside src/hsm" "$calls"; fi
inside=$(grep -rln 'p11_int\.h' "$ROOT/src" | grep -v "^$ROOT/src/hsm/")
if [ -z "$inside" ]; then pass "no file outside src/hsm includes p11_int.h"; else fail "no file outside src/hsm includes p11_int.h" "$inside"; fi
# The check itself: a planted call is found.
T=$(mktemp -d /tmp/ceremony-test.XXXXXX)
on_exit 'rm -rf "$T"'
mkdir -p "$T/src/ops"
printf 'void f(struct s *x) { x->f->C_DestroyObject(x->h, 1); }\n' >"$T/src/ops/planted.c"
check "a planted call outside src/hsm is found" bash -c "grep -rnE --include='*.c' -e '->C_[A-Z][A-Za-z]+\(' '$T/src' | grep -q planted.c"
finish

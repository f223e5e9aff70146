#!/usr/bin/env bash
# Options are never abbreviated: getopt_long would take "--thres" for "--threshold",
# and an abbreviation would slip past every filter that matches whole names (a
# script's secret options, the confidential options the runner hides from the
# public transcript). Needs no HSM: every refusal comes before one is touched.
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d /tmp/ceremony-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
export CEREMONY_ALLOW_NETWORK=1

expect_fail "an abbreviated command option is refused" 2 'unknown option "--thres" \(options are never abbreviated' \
	"$CEREMONY" backup create --thres=3 --transcript "$T/a.jsonl"
expect_fail "an abbreviated PIN source is refused" 2 'unknown option "--pin-s"' \
	"$CEREMONY" key show --pin-s=file:/dev/null --token t --label l
expect_fail "an abbreviated common option before the command is refused" 2 'unknown option "--allow-net"' \
	"$CEREMONY" --allow-net token list
expect_fail "an abbreviated option with its value in the next word is refused" 2 'unknown option "--trans"' \
	"$CEREMONY" token init --label x --trans "$T/b.jsonl"
check "nothing was written" test -z "$(ls -A "$T")"
# The whole name still works, and a value that looks like an option is a value.
out=$("$CEREMONY" transcript verify --root --allow-unsealed "$T/none.jsonl" 2>&1)
check "a value that starts with -- is taken as the value" bash -c "printf '%s' \"\$1\" | grep -q -- '--allow-unsealed' && ! printf '%s' \"\$1\" | grep -q 'abbreviated'" _ "$out"
expect_ok "--help spelled out works" "$CEREMONY" backup create --help

# In a script: an abbreviated secret option is refused at load.
printf 'ceremony: x\ntitle: x\nroles: {CA: A}\nacts:\n  - title: a\n    steps:\n      - {role: CA, say: s, run: [key, show, "--pin-s=file:/tmp/p"]}\n' >"$T/pin.yaml"
expect_fail "a script abbreviating --pin-source is refused" 1 '"--pin-s" abbreviates --pin-source' \
	"$CEREMONY" run "$T/pin.yaml" --dry-run
# An abbreviated confidential option (k, n) is refused before anything is recorded.
printf 'ceremony: x\ntitle: x\nroles: {CA: A}\nacts:\n  - title: a\n    steps:\n      - {role: CA, say: s, run: [backup, create, "--thres=3", --shares, "5"]}\n' >"$T/k.yaml"
printf 'confirm_all: yes\nroles:\n  CA: {name: A}\n' >"$T/answers.yaml"
expect_fail "a script abbreviating --threshold is refused" 1 '"--thres" abbreviates a confidential option' \
	"$CEREMONY" run "$T/k.yaml" --answers "$T/answers.yaml" --transcript "$T/k.jsonl"
check "... and no transcript was written" test ! -e "$T/k.jsonl"
"$CEREMONY" run "$T/k.yaml" --dry-run >"$T/dry.txt" 2>&1
check "... nor shown by a dry run" bash -c "! grep -q 'thres=3' '$T/dry.txt'"
finish

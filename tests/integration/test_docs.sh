#!/usr/bin/env bash
# The man pages: their OPTIONS sections are what the option tables generate
# (genman --check), they render without warnings, every command group has one and
# every command is in its synopsis, no page names an option no command accepts,
# and `make install` installs them with the binary, the profiles and the shipped
# scripts. Needs no HSM. (That --help prints exactly the tables' options:
# tests/unit/test_cli_opts.c.)
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MAN=$ROOT/docs/man
T=$(mktemp -d /tmp/ceremony-test.XXXXXX)
on_exit 'rm -rf "$T"'

# Long options in a text, one per line.
long_opts() { grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' | sort -u; }

command -v groff >/dev/null || { fail "groff is installed" "groff-base provides it"; finish; }

# The OPTIONS sections are generated from the option tables the commands parse with
# (tools/genman.c, `make man`): a checked-in page that differs fails here.
GENMAN=$(dirname "$CEREMONY")/genman
if [ ! -x "$GENMAN" ]; then
	fail "genman is built" "run make $GENMAN (make check builds it)"
elif out=$("$GENMAN" --check "$MAN" 2>&1); then
	pass "every page's OPTIONS section is what the option tables generate"
else
	fail "every page's OPTIONS section is what the option tables generate" "$out"
fi
# ... and the check can fail: a page with one option's paragraph changed.
cp -r "$MAN" "$T/man"
sed -i 's/^\.SH OPTIONS$/.SH OPTIONS\n.TP\n.B \\-\\-no\\-such\\-option\nPlanted./' "$T/man/ceremony-crl.1"
check "... (the planted option is in the copy)" grep -q '^Planted\.$' "$T/man/ceremony-crl.1" 
if "$GENMAN" --check "$T/man" 2>"$T/genman.err"; then
	fail "genman --check fails on a page edited by hand"
else
	check "genman --check fails on a page edited by hand, naming it" grep -q "ceremony-crl.1" "$T/genman.err"
fi

# Every page renders without warnings (one groff run for all: its warnings name
# the file), with the sections a page must have.
warnings=$(groff -man -Tutf8 -ww -z "$MAN"/*.1 2>&1)
for page in "$MAN"/*.1; do
	name=$(basename "$page")
	mine=$(printf '%s\n' "$warnings" | grep -F "$name:")
	if [ -z "$mine" ]; then pass "$name renders without warnings"; else fail "$name renders without warnings" "$mine"; fi
done
check "groff said nothing else" test -z "$(printf '%s\n' "$warnings" | grep -vF "$MAN/")"
missing=$(awk '
	FNR == 1 { if (f != "") report(); f = FILENAME; split("NAME SYNOPSIS DESCRIPTION OPTIONS EXIT_STATUS EXAMPLES SEE_ALSO", want, " "); delete have }
	/^\.SH / { t = $0; sub(/^\.SH "?/, "", t); sub(/"?$/, "", t); gsub(/ /, "_", t); have[t] = 1 }
	function report(   i, m) { m = ""; for (i = 1; i <= 7; i++) if (!(want[i] in have)) m = m " " want[i]; if (m != "") print f ":" m }
	END { report() }' "$MAN"/*.1)
if [ -z "$missing" ]; then pass "every page has every section"; else fail "every page has every section" "$missing"; fi

# Every page another page refers to exists.
refs=$(cat "$MAN"/*.1 | grep -oE '^\.BR ceremony(\\-[a-z]+)? \(1\)' | sed -E 's/^\.BR ([^ ]+) .*/\1/; s/\\-/-/g' | sort -u)
bad=""
for r in $refs; do [ -f "$MAN/$r.1" ] || bad="$bad $r"; done
if [ -z "$bad" ]; then pass "every ceremony page in SEE ALSO exists"; else fail "every ceremony page in SEE ALSO exists" "missing:$bad"; fi

# The commands and their options, from the tables the binary parses with (the unit
# test test_cli_opts checks that --help prints exactly these).
list=$("$GENMAN" --list)
check "genman --list names commands" test "$(printf '%s\n' "$list" | wc -l)" -gt 30
groups=$(printf '%s\n' "$list" | awk -F'\t' '{ split($1, parts, " "); if (parts[2] != "") print parts[2] }' | sort -u)
# ceremony --help lists the same groups
top=$("$CEREMONY" --help)
helpgroups=$(printf '%s\n' "$top" | sed -n '/^Commands:/,/^$/p' | sed -nE 's/^  ([a-z]+) .*/\1/p' | sort)
check "ceremony --help lists every group of the tables" test "$helpgroups" = "$groups"
check "ceremony --help prints --version" grep -q -- '--version' <<<"$top"
pages=$(ls "$MAN"/ceremony-*.1 | sed -E 's|.*/ceremony-(.*)\.1$|\1|' | sort)
check "a page for each group, and none for a group that does not exist" test "$pages" = "$groups"
bad=""
for g in $groups; do grep -qE "^\.BR ceremony\\\\-$g \(1\)" "$MAN/ceremony.1" || bad="$bad $g"; done
if [ -z "$bad" ]; then pass "ceremony.1 refers to every group's page"; else fail "ceremony.1 refers to every group's page" "missing:$bad"; fi
# Each command's --help is its table's: the spec genman documents is the one the
# command parses with (test_cli_opts checks each table against its --help text).
"$GENMAN" --helps >"$T/helps.tables"
while IFS=$'\t' read -r cmd _; do
	echo "=== $cmd"
	$cmd --help 2>&1
done <<<"$(printf '%s\n' "$list" | tail -n +2 | sed "s|^ceremony|$CEREMONY|")" | sed "s|^=== $CEREMONY|=== ceremony|" >"$T/helps.binary"
if cmp -s "$T/helps.tables" "$T/helps.binary"; then
	pass "every command's --help is what its option table prints"
else
	fail "every command's --help is what its option table prints" "$(diff "$T/helps.tables" "$T/helps.binary" | head -20)"
fi
# Each command in its page's synopsis.
bad=""
while IFS=$'\t' read -r cmd _; do
	set -- $cmd
	[ $# -ge 3 ] || continue
	rest=${cmd#ceremony $2 }
	grep -qE "^\.B(R)? ceremony $2 ${rest//-/(\\\\)?-}( |$)" "$MAN/ceremony-$2.1" || bad="$bad '$cmd'"
done <<<"$list"
if [ -z "$bad" ]; then pass "every command is in its page's synopsis"; else fail "every command is in its page's synopsis" "missing:$bad"; fi
# Nothing that does not exist: every option a page names anywhere (its synopsis,
# description, examples) is one some command accepts.
known=$(printf '%s\n' "$list" | cut -f2 | tr ' ' '\n' | grep . | sort -u)
extra=""
for page in "$MAN"/*.1; do
	for o in $(sed 's/\\-/-/g' "$page" | long_opts); do
		printf '%s\n' "$known" | grep -qxF -- "$o" || extra="$extra $(basename "$page"):$o"
	done
done
if [ -z "$extra" ]; then pass "no page names an option that no command accepts"; else fail "no page names an option that no command accepts" "unknown:$extra"; fi
# The script loader's list of secret-source options (only the runner adds them, from
# the answers) names options that exist: a renamed option would slip past it. (Its
# confidential list is public, script.h: tests/unit/test_cli_opts.c checks that one.)
names=$(grep -rh -A4 'secret_options\[\] = {' "$ROOT/src" | sed '/};/q' | grep -oE '"--[a-z][a-z0-9-]*"' | tr -d '"')
bad=""
for o in $names; do printf '%s\n' "$known" | grep -qxF -- "$o" || bad="$bad $o"; done
if [ "$(printf '%s\n' $names | grep -c .)" -ge 5 ] && [ -z "$bad" ]; then
	pass "every option in the script loader's secret_options is one a command accepts"
else
	fail "every option in the script loader's secret_options is one a command accepts" \
		"read (from 'secret_options[] = {' under src/): $(echo $names); unknown:$bad"
fi

# make install, of the binary already built ($CEREMONY; -o: never rebuilt here).
dest=$T/dest
bdir=$(dirname "$CEREMONY")
if out=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" -o "$bdir/ceremony" install \
	BUILD="$bdir" DESTDIR="$dest" PREFIX=/usr 2>&1); then
	pass "make install DESTDIR PREFIX=/usr"
else
	fail "make install DESTDIR PREFIX=/usr" "$out"
fi
check "the binary is installed as built" cmp "$CEREMONY" "$dest/usr/bin/ceremony"
check "the installed binary runs" "$dest/usr/bin/ceremony" --version
missing=""
for page in "$MAN"/*.1; do
	cmp -s "$page" "$dest/usr/share/man/man1/$(basename "$page")" || missing="$missing $(basename "$page")"
done
if [ -z "$missing" ]; then pass "every man page is installed in share/man/man1"; else fail "every man page is installed in share/man/man1" "missing:$missing"; fi
missing=""
for f in "$ROOT"/ceremony-scripts/profiles/*.yaml; do
	cmp -s "$f" "$dest/usr/share/ceremony/profiles/$(basename "$f")" || missing="$missing $(basename "$f")"
done
if [ -z "$missing" ]; then pass "every profile is installed in share/ceremony/profiles"; else fail "every profile is installed in share/ceremony/profiles" "missing:$missing"; fi
check "the sample site configuration is installed" cmp "$ROOT/ceremony-scripts/ceremony.yaml.example" "$dest/usr/share/ceremony/ceremony.yaml.example"
missing=""
for f in "$ROOT"/ceremony-scripts/*.yaml; do
	cmp -s "$f" "$dest/usr/share/ceremony/scripts/$(basename "$f")" || missing="$missing $(basename "$f")"
done
if [ -z "$missing" ]; then pass "every shipped script is installed in share/ceremony/scripts"; else fail "every shipped script is installed in share/ceremony/scripts" "missing:$missing"; fi
check "the installed pages render with man" man --warnings -l "$dest/usr/share/man/man1/ceremony-backup.1"
check "nothing is installed outside DESTDIR/usr" test "$(ls "$dest")" = usr
finish

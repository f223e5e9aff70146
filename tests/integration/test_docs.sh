#!/usr/bin/env bash
# The man pages: they render without warnings, every command group has one, every
# long option a --help prints is in its group's page (and no page names an option
# that no --help prints), and `make install` installs them with the binary, the
# profiles and the shipped scripts. Needs no HSM.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MAN=$ROOT/docs/man
T=$(mktemp -d /tmp/ceremony-test.XXXXXX)
on_exit 'rm -rf "$T"'

# Long options in a text (help output or a rendered page), one per line.
long_opts() { grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' | sort -u; }
# A page as plain text: no bold, underline or overstrike; lines long enough that
# no option is broken or hyphenated.
render() { groff -man -Tascii -P-cbou -rLL=2000n -rHY=0 "$1" 2>/dev/null; }

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

# Every page renders without warnings, with the sections a page must have.
for page in "$MAN"/*.1; do
	name=$(basename "$page")
	warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
	if [ -z "$warnings" ]; then pass "$name renders without warnings"; else fail "$name renders without warnings" "$warnings"; fi
	missing=""
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES "SEE ALSO"; do
		grep -qE "^\.SH \"?$s\"?$" "$page" || missing="$missing $s"
	done
	if [ -z "$missing" ]; then pass "$name has every section"; else fail "$name has every section" "missing:$missing"; fi
done

# Every page another page refers to exists.
refs=$(cat "$MAN"/*.1 | grep -oE '^\.BR ceremony(\\-[a-z]+)? \(1\)' | sed -E 's/^\.BR ([^ ]+) .*/\1/; s/\\-/-/g' | sort -u)
bad=""
for r in $refs; do [ -f "$MAN/$r.1" ] || bad="$bad $r"; done
if [ -z "$bad" ]; then pass "every ceremony page in SEE ALSO exists"; else fail "every ceremony page in SEE ALSO exists" "missing:$bad"; fi

# The top-level help: its options are in ceremony.1, its groups each have a page.
top=$("$CEREMONY" --help)
all_help=$top
groups=$(printf '%s\n' "$top" | sed -n '/^Commands:/,/^$/p' | sed -nE 's/^  ([a-z]+) .*/\1/p')
check "ceremony --help lists command groups" test -n "$groups"
rendered=$(render "$MAN/ceremony.1")
missing=""
for o in $(printf '%s\n' "$top" | long_opts); do
	printf '%s\n' "$rendered" | grep -qF -- "$o" || missing="$missing $o"
done
if [ -z "$missing" ]; then pass "ceremony.1 has every option of ceremony --help"; else fail "ceremony.1 has every option of ceremony --help" "missing:$missing"; fi

for g in $groups; do
	page=$MAN/ceremony-$g.1
	if [ ! -f "$page" ]; then
		fail "command group $g has a man page" "no $page"
		continue
	fi
	pass "command group $g has a man page"
	grep -qE "^\.BR ceremony\\\\-$g \(1\)" "$MAN/ceremony.1" || fail "ceremony.1 refers to ceremony-$g(1)"
	# The group's help, and each of its verbs' help when it has verbs.
	help=$("$CEREMONY" "$g" --help 2>&1)
	verbs=$(printf '%s\n' "$help" | sed -n '/^Commands:/,/^$/p' | sed -nE 's/^  ([a-z][a-z-]*) .*/\1/p')
	for v in $verbs; do
		vh=$("$CEREMONY" "$g" "$v" --help 2>&1) || fail "ceremony $g $v --help exits 0"
		help="$help
$vh"
		grep -qE "^\.B(R)? ceremony $g $v" "$page" || fail "ceremony-$g.1 shows ceremony $g $v in its synopsis"
	done
	all_help="$all_help
$help"
	rendered=$(render "$page")
	missing=""
	for o in $(printf '%s\n' "$help" | long_opts); do
		printf '%s\n' "$rendered" | grep -qF -- "$o" || missing="$missing $o"
	done
	if [ -z "$missing" ]; then pass "ceremony-$g.1 has every option its --help prints"; else fail "ceremony-$g.1 has every option its --help prints" "missing:$missing"; fi
done
# Nothing that does not exist: every option a page names (its own, or another
# command's in an example) is one some --help prints.
known=$(printf '%s\n' "$all_help" | long_opts)
for page in "$MAN"/*.1; do
	name=$(basename "$page")
	extra=""
	for o in $(render "$page" | long_opts); do
		printf '%s\n' "$known" | grep -qxF -- "$o" || extra="$extra $o"
	done
	if [ -z "$extra" ]; then pass "$name names no option that no --help prints"; else fail "$name names no option that no --help prints" "unknown:$extra"; fi
done
pages=$(ls "$MAN"/ceremony-*.1 | sed -E 's|.*/ceremony-(.*)\.1$|\1|' | sort | tr '\n' ' ')
check "no page for a group ceremony --help does not list" test "$pages" = "$(printf '%s\n' $groups | sort | tr '\n' ' ')"

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

#!/usr/bin/env bash
# `make deps` installs every tool the tests and the demo run: each command found at
# a command position in tests/, ceremony-scripts/ and the Makefile's demo, that is a
# program on this machine, must come from a package in DEB_PACKAGES or from one that
# a minimal Debian (debootstrap minbase: Essential or Priority required) always has.
# Needs no HSM.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

command -v dpkg-query >/dev/null || { fail "dpkg-query is there (a Debian machine)"; finish; }
deb_packages=$(make -s -C "$ROOT" --no-print-directory -f Makefile -f - print-deb-packages <<'MK'
print-deb-packages:
	@echo $(DEB_PACKAGES)
MK
)
[ -n "$deb_packages" ] && pass "DEB_PACKAGES is read from the Makefile" || fail "DEB_PACKAGES is read from the Makefile"

# Words in command position: start of a line, after | ; & ( $( { ! `, then/do/else, command -v.
commands=$(cat "$ROOT"/tests/integration/*.sh "$ROOT"/tests/run-tests.sh "$ROOT"/tests/bench/*.sh \
	"$ROOT"/ceremony-scripts/*.sh 2>/dev/null |
	grep -vE '^\s*#' | sed -E 's/\b[A-Za-z_][A-Za-z0-9_]*=//g' |
	grep -oE '(^|[|;&({`!]|\$\(|\bthen|\bdo|\belse|command -v)\s*[a-z][a-z0-9_.+-]*' |
	sed -E 's/.*[^a-z0-9_.+-]([a-z][a-z0-9_.+-]*)$/\1/; s/^([a-z][a-z0-9_.+-]*)$/\1/' | sort -u)

# Every program of that name on the PATH (pyenv shims and the like hide Debian's) and
# what it points to, with and without the /usr merge; one dpkg-query for all of them.
candidates_of() {
	local p r
	for p in $(type -a -P "$1") /usr/bin/$1 /bin/$1 /usr/sbin/$1 /sbin/$1; do
		[ -e "$p" ] || continue
		r=$(readlink -f "$p")
		printf '%s\n' "$p" "$r" "${p#/usr}" "${r#/usr}" "/usr$p" "/usr$r"
	done
}
all=""
for c in $commands; do
	case "$(type -t "$c" 2>/dev/null)" in file) all="$all $(candidates_of "$c" | tr '\n' ' ')" ;; esac
done
# shellcheck disable=SC2086
owners=$(dpkg-query -S $all 2>/dev/null | grep -v '^diversion')
package_of() { # program name -> the Debian package of one of its candidates
	local cand
	for cand in $(candidates_of "$1"); do
		printf '%s\n' "$owners" | grep -F ": $cand" | grep -qE ": $cand\$" || continue
		printf '%s\n' "$owners" | grep -E ": $cand\$" | head -n1 | cut -d: -f1
		return 0
	done
}

is_base() { # Essential or Priority required: present on debootstrap --variant=minbase
	local f
	f=$(dpkg-query -W -f='${Essential} ${Priority}' "$1" 2>/dev/null)
	case "$f" in yes*|*required) return 0 ;; *) return 1 ;; esac
}

# Everything DEB_PACKAGES pulls in by dependency (e.g. binutils by build-essential) counts.
# shellcheck disable=SC2086
closure=" $(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
	--no-replaces --no-enhances $deb_packages 2>/dev/null | grep -v '^ ' | sed 's/:.*//' | sort -u | tr '\n' ' ') "

missing=""
checked=0
for c in $commands; do
	# Shell builtins and keywords (kill, test, echo) need no package.
	case "$(type -t "$c" 2>/dev/null)" in file) ;; *) continue ;; esac
	[ "$(type -P "$c")" = "$CEREMONY" ] && continue
	pkg=$(package_of "$c")
	[ -n "$pkg" ] || { missing="$missing $c(no-package)"; continue; }
	checked=$((checked + 1))
	is_base "$pkg" && continue
	case " $deb_packages $closure" in *" $pkg "*) continue ;; esac
	missing="$missing $c($pkg)"
done
if [ "$checked" -gt 10 ]; then pass "the tests' programs were found ($checked)"; else fail "the tests' programs were found" "only $checked"; fi
if [ -z "$missing" ]; then
	pass "make deps installs every program the tests and the demo run"
else
	fail "make deps installs every program the tests and the demo run" "not in DEB_PACKAGES:$missing"
fi
finish

#!/usr/bin/env bash
# Style rules a grep can check (../shared/STYLE.md 14: "every snprintf is checked for
# truncation"). A `(void)snprintf` drops the check: use textbuf.h's text_format /
# text_copy / text_append, which fail with the name of what was too long, or
# text_format_cut where shortening on purpose is the right thing.
# Usage: tests/style.sh [ROOT]   (exit 0: rules hold; 1: prints each violation)
set -u
root=${1:-.}
# The layers already converted (issue 8 item 6); each later layer joins when it lands.
clean="base hsm shares x509 transcript audit"
bad=0
for layer in $clean; do
	[ -d "$root/src/$layer" ] || continue
	while IFS= read -r hit; do
		echo "${hit#"$root"/}: an unchecked snprintf: use text_format/text_copy (ceremony/textbuf.h)"
		bad=1
	done < <(grep -nE '\(void\)[[:space:]]*v?snprintf[[:space:]]*\(' "$root/src/$layer"/*.[ch] 2>/dev/null)
done
exit $bad

#!/usr/bin/env bash
# Style rules a grep can check (../shared/STYLE.md 14: "every snprintf is checked for
# truncation"). A `(void)snprintf` drops the check: use textbuf.h's text_format /
# text_copy / text_append, which fail with the name of what was too long, or
# text_format_cut where shortening on purpose is the right thing.
# Usage: tests/style.sh [ROOT]   (exit 0: rules hold; 1: prints each violation)
set -u
root=${1:-.}
bad=0
for dir in "$root"/src/*/; do
	for f in "$dir"*.[ch]; do
		[ -f "$f" ] || continue
		rel=${f#"$root"/}
		while IFS= read -r hit; do
			echo "$rel:${hit%%:*}: an unchecked snprintf: use text_format/text_copy (ceremony/textbuf.h)"
			bad=1
		done < <(grep -nE '\(void\)[[:space:]]*v?snprintf[[:space:]]*\(' "$f")
	done
done
exit $bad

#!/usr/bin/env bash
# The layer rule: a source file may include only headers of its own layer or of a
# layer it is allowed to use (docs/design-notes.md, "Layers"). A public header
# include/ceremony/X.h belongs to the layer whose folder holds X.c; a private
# X_int.h must sit beside the file that includes it.
# Usage: tests/layers.sh [ROOT]   (exit 0: rule holds; 1: prints each violation)
set -u
root=${1:-.}
declare -A may=(
	[base]="base"
	[hsm]="base hsm"
	[shares]="base shares"
	[x509]="base x509"
	[transcript]="base x509 transcript"
	[audit]="base x509 transcript audit"
	[ops]="base hsm shares x509 transcript audit ops"
	[script]="base transcript ops script"
	[cli]="base hsm shares x509 transcript audit ops script cli"
)
# Headers without a same-named source file.
declare -A owner=([commands]=cli [backupblob]=ops [sizes]=base)
bad=0
for f in "$root"/src/*/*.c; do
	n=${f##*/}
	d=${f%/*}
	[ -n "${owner[${n%.c}]+x}" ] || owner[${n%.c}]=${d##*/}
done
layer_of() { # HEADER-NAME -> layer, from where its source lives
	echo "${owner[$1]:-?}"
}
for dir in "$root"/src/*/; do
	layer=$(basename "$dir")
	if [ -z "${may[$layer]+x}" ]; then
		echo "src/$layer: a folder that is no layer (add it to tests/layers.sh and docs/design-notes.md)"
		bad=1
		continue
	fi
	for f in "$dir"*.c "$dir"*.h; do
		[ -f "$f" ] || continue
		rel=${f#"$root"/}
		while IFS= read -r inc; do
			case $inc in
			ceremony/*.h)
				h=${inc#ceremony/}
				h=${h%.h}
				to=$(layer_of "$h")
				;;
			*_int.h | *.inc)
				if [ -f "$dir$inc" ]; then to=$layer; else to="?"; fi
				;;
			*)
				echo "$rel: includes \"$inc\" by a path: use \"ceremony/NAME.h\" or a header beside it"
				bad=1
				continue
				;;
			esac
			if [ "$to" = "?" ]; then
				echo "$rel: includes \"$inc\", which belongs to no layer"
				bad=1
			elif [[ " ${may[$layer]} " != *" $to "* ]]; then
				echo "$rel: layer $layer includes \"$inc\" of layer $to (a higher layer, or one $layer may not use)"
				bad=1
			fi
		done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
	done
done
# Public headers may include only their own layer's allowed headers, too.
for f in "$root"/include/ceremony/*.h; do
	h=$(basename "$f" .h)
	layer=$(layer_of "$h")
	if [ "$layer" = "?" ]; then
		echo "include/ceremony/$h.h: no src/*/$h.c: add it to tests/layers.sh's owner table"
		bad=1
		continue
	fi
	while IFS= read -r inc; do
		to=$(layer_of "$(basename "${inc#ceremony/}" .h)")
		if [[ " ${may[$layer]} " != *" $to "* ]]; then
			echo "include/ceremony/$h.h: layer $layer includes \"$inc\" of layer $to"
			bad=1
		fi
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\(ceremony\/[^"]*\)".*/\1/p' "$f")
done
exit $bad

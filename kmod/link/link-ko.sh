#!/usr/bin/env bash
# Link the kmod staticlib into a FreeBSD amd64 kernel module, the way
# FreeBSD 14.2 sys/conf/kmod.mk (b66633d79ade) links one on amd64:
#   ld -r -d -warn-common --build-id=sha1 -T <script> -o <kld> <objs>
#   localize every defined global (EXPORT_SYMS=NO, kmod_syms.awk)
#   objcopy --strip-debug
# plus what a Rust staticlib needs:
#   - drop embedded LLVM bitcode (.llvmbc/.llvmcmd; binutils' LTO plugin
#     would try to read it) and unwind tables (.eh_frame);
#   - localize compiler_builtins' non-runtime symbols first (see
#     builtins-globals.txt);
#   - --gc-sections rooted at the linker sets (KEEP in the script) and at
#     the module's moduledata symbol (GNU ld wants one defined root).
#
# Usage: link-ko.sh <staticlib.a> <out.ko> <workdir-prefix>
# Intermediates go to a fresh <workdir-prefix>.XXXXXX (removed on success,
# kept on failure), so concurrent runs do not trip over each other; the
# .ko is renamed into place atomically.
set -euo pipefail

lib=$(realpath "$1")
out=$2
mkdir -p "$(dirname "$3")"
work=$(mktemp -d "$3.XXXXXX")
here=$(cd "$(dirname "$0")" && pwd)
root_symbol=if_ipsec_mod

LD=${LD:-ld}
OBJCOPY=${OBJCOPY:-objcopy}
NM=${NM:-nm}
AR=${AR:-ar}

mkdir -p "$work/members" "$work/objs"
(cd "$work/members" && "$AR" x "$lib")

objs=()
for member in "$work"/members/*.o; do
	name=$(basename "$member")
	obj="$work/objs/$name"
	"$OBJCOPY" -R .llvmbc -R .llvmcmd "$member" "$obj"
	case "$name" in
	compiler_builtins-*)
		"$OBJCOPY" --wildcard \
		    --keep-global-symbols="$here/builtins-globals.txt" "$obj"
		;;
	esac
	objs+=("$obj")
done

kld="$work/if_ipsec.kld"
"$LD" -m elf_x86_64 -r -d -warn-common --build-id=sha1 \
    --gc-sections -u "$root_symbol" -T "$here/kmod.ld" \
    -o "$kld" "${objs[@]}"

# EXPORT_SYMS=NO: every defined global becomes local (kmod_syms.awk prints
# -L for each `nm -g` symbol that is neither undefined nor absolute).
"$NM" -g --defined-only -P "$kld" | awk '$2 != "A" { print $1 }' \
    > "$work/localize.txt"
"$OBJCOPY" --localize-symbols="$work/localize.txt" \
    --strip-debug -R .eh_frame -R .rela.eh_frame "$kld" "$work/if_ipsec.ko"
mv -f "$work/if_ipsec.ko" "$out.tmp.$$"
mv -f "$out.tmp.$$" "$out"
rm -rf "$work"

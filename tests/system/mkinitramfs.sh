#!/usr/bin/env bash
# mkinitramfs.sh OUT.cpio [MODULE...]: the test initramfs (an uncompressed
# newc cpio) with Debian's static busybox and its applet links, /init
# (init.sh), laminactl and the workload from build/, and the named kernel
# modules with their dependencies (loaded by /init in modules.dep order).
# Modules come from /lib/modules/$(linux_version) (linux.sh).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-$top/build}
out=$1
shift

# add_modules MODDIR NAME...: copy the modules and what they depend on
# (modules.dep) into the archive, listed in /etc/modules in a load order.
add_modules() {
	local moddir=$1 mod path
	shift
	declare -A deps=() seen=()
	while IFS=: read -r path mod; do deps[$path]=$mod; done <"$moddir/modules.dep"
	emit() { # dependencies first
		[ -n "${seen[$1]:-}" ] && return
		seen[$1]=1
		local d
		for d in ${deps[$1]}; do emit "$d"; done
		mkdir -p "$stage/lib/modules/$(dirname "$1")"
		cp "$moddir/$1" "$stage/lib/modules/$1"
		echo "$1" >>"$stage/etc/modules"
	}
	for mod in "$@"; do
		path=$(printf '%s\n' "${!deps[@]}" |
			awk -v m="${mod//-/_}" '{ b = $0; sub(/.*\//, "", b); sub(/\.ko$/, "", b);
				gsub(/-/, "_", b); if (b == m) print }')
		[ -n "$path" ] || { echo "mkinitramfs: no module $mod in $moddir" >&2; exit 1; }
		emit "$path"
	done
}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,etc,lib/modules}

cp /bin/busybox "$stage/bin/busybox"
for applet in $("$stage/bin/busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
done
install -m 0755 "$here/init.sh" "$stage/init"
for prog in laminactl workload pm1_sleep; do
	[ -x "$build/$prog" ] || { echo "mkinitramfs: $build/$prog missing (make build/$prog)" >&2; exit 1; }
	install -m 0755 -s "$build/$prog" "$stage/bin/$prog"
done
# Without root no device node: /init then reopens the console itself.
mknod "$stage/dev/console" c 5 1 2>/dev/null || true

if [ $# -gt 0 ]; then
	. "$here/linux.sh"
	add_modules "/lib/modules/$(linux_version)" "$@"
fi

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$out.tmp"
mv "$out.tmp" "$out"

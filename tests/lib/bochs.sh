# Booting a GRUB ISO on Bochs, shared by the test scripts (through
# tests/lib/common.sh) and by tests/system/linux.sh (make bench). Source
# it; the scratch files go to $WORK, which the caller sets.
# PLATFORM.md has the background: Debian's Bochs has its debugger built in
# (the -rc file continues past its prompt), uses the `term` display, and
# exits with status 1 even after a clean power-off: judge runs by markers.

# make_iso ISO GRUB_ENTRY_LINES FILE...: a GRUB (BIOS) ISO with the given
# files in /boot and a grub.cfg whose menu entry body is GRUB_ENTRY_LINES.
make_iso() {
	local iso=$1 entry=$2
	shift 2
	local dir="$WORK/iso"
	rm -rf "$dir" && mkdir -p "$dir/boot/grub"
	cp "$@" "$dir/boot/"
	cat >"$dir/boot/grub/grub.cfg" <<-EOF
		set timeout=0
		set default=0
		serial --unit=0 --speed=115200
		terminal_input serial
		terminal_output serial
		menuentry lamina {
		$entry
		}
	EOF
	grub-mkrescue -o "$iso" "$dir" >"$WORK/grub-mkrescue.log" 2>&1
}

# bochs_config COM1_LOG MODEL CPUS MEGS ISO [COM2_LOG]: writes $WORK/bochsrc
# (Bochs' own log to $WORK/bochs.log) and sets BOCHS_CMD, to be run with
# TERM=vt100 and stdin from /dev/null.
bochs_config() {
	local com1=$1 model=$2 cpus=$3 megs=$4 iso=$5 com2=${6:-}
	local rc="$WORK/bochsrc" cont="$WORK/cont.rc"
	cat >"$rc" <<-EOF
		megs: $megs
		romimage: file=/usr/share/bochs/BIOS-bochs-latest
		vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
		cpu: model=$model, count=$cpus, ips=50000000, reset_on_triple_fault=0
		ata0-master: type=cdrom, path=$iso, status=inserted
		boot: cdrom
		display_library: term
		com1: enabled=1, mode=file, dev=$com1
		log: $WORK/bochs.log
		panic: action=fatal
		error: action=report
		info: action=report
		debug: action=ignore
		clock: sync=none, time0=local
	EOF
	[ -n "$com2" ] && echo "com2: enabled=1, mode=file, dev=$com2" >>"$rc"
	printf 'c\nquit\n' >"$cont"
	BOCHS_CMD=(bochs -q -f "$rc" -rc "$cont")
}

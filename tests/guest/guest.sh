# Helpers for the test-kernel scripts (tests/guest/*.t): run one kernel,
# bare or as lamina's guest, on QEMU or Bochs, then judge the run.
# Source it (it sources tests/lib/common.sh). After a run:
#   LOG    the guest's COM1 log (its TAP lines)
#   HVLOG  lamina's COM2 log (empty for bare runs)
#   MODSTR the module string given to lamina (the guest's command line)
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

GUEST_DIR=$BUILD/guest
QEMU_TIMEOUT=${QEMU_TIMEOUT:-60}
BOCHS_TIMEOUT=${BOCHS_TIMEOUT:-180}
GUEST_MEM=${GUEST_MEM:-512}
LOG=$WORK/com1.log
HVLOG=
MODSTR=

# with_module FILE "ARGS": the runs that follow pass FILE, with that
# command line, as a further module after the kernel.
EXTRA_MOD=
EXTRA_MOD_ARGS=
with_module() {
	EXTRA_MOD=$1
	EXTRA_MOD_ARGS=$2
}

# Missing build products end the script with a failure that says so.
need_built() {
	local f
	for f; do
		[ -f "$f" ] && continue
		not_ok "$(basename "$f") is built (make guest; lamina: make)"
		finish
	done
}

done_marker() { echo "^lamina-test: done $1"; }

# guest_qemu_bare NAME "ARGS" SMP [QEMU ARGS...]
guest_qemu_bare() {
	local name=$1 args=$2 smp=$3
	shift 3
	need_built "$GUEST_DIR/$name.elf"
	[ -n "$EXTRA_MOD" ] && set -- -initrd "$EXTRA_MOD $EXTRA_MOD_ARGS" "$@"
	run_until "$LOG" "$(done_marker "$name")" "$QEMU_TIMEOUT" \
		qemu-system-x86_64 -accel tcg -machine q35 -cpu "$QEMU_CPU" \
		-smp "$smp" -m "$GUEST_MEM" -kernel "$GUEST_DIR/$name.elf" \
		-append "$args" -serial "file:$LOG" -display none -no-reboot \
		-monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@"
}

# guest_qemu_lamina NAME "ARGS" SMP [QEMU ARGS...]
# lamina logs to COM2 so that COM1 holds only the guest's lines.
guest_qemu_lamina() {
	local name=$1 args=$2 smp=$3 more=
	shift 3
	[ -n "$EXTRA_MOD" ] && more=",$EXTRA_MOD $EXTRA_MOD_ARGS"
	need_built "$LAMINA" "$GUEST_DIR/$name.elf"
	HVLOG=$WORK/com2.log
	MODSTR="$GUEST_DIR/$name.elf $name.elf${args:+ $args}"
	: >"$HVLOG"
	qemu_lamina "$LOG" "$(done_marker "$name")" "$QEMU_TIMEOUT" "$smp" \
		"$GUEST_MEM" "console=com2" "$MODSTR$more" -serial "file:$HVLOG" "$@"
}

grub_extra_module() {
	[ -n "$EXTRA_MOD" ] && echo "$1 /boot/$(basename "$EXTRA_MOD") $EXTRA_MOD_ARGS"
	return 0
}

# guest_bochs_bare NAME "ARGS" MODEL CPUS: GRUB `multiboot` on Bochs.
guest_bochs_bare() {
	local name=$1 args=$2 model=$3 cpus=$4
	need_built "$GUEST_DIR/$name.elf"
	make_iso "$WORK/test.iso" "multiboot /boot/$name.elf${args:+ $args}
$(grub_extra_module module)
boot" "$GUEST_DIR/$name.elf" $EXTRA_MOD
	bochs_run "$LOG" "$(done_marker "$name")" "$BOCHS_TIMEOUT" "$model" \
		"$cpus" "$GUEST_MEM" "$WORK/test.iso"
}

# guest_bochs_lamina NAME "ARGS" MODEL CPUS: GRUB `multiboot2` lamina
# with the kernel as `module2`.
guest_bochs_lamina() {
	local name=$1 args=$2 model=$3 cpus=$4
	need_built "$LAMINA" "$GUEST_DIR/$name.elf"
	HVLOG=$WORK/com2.log
	MODSTR="$name.elf${args:+ $args}"
	: >"$HVLOG"
	make_iso "$WORK/test.iso" "multiboot2 /boot/lamina.elf console=com2
module2 /boot/$name.elf $MODSTR
$(grub_extra_module module2)
boot" "$LAMINA" "$GUEST_DIR/$name.elf" $EXTRA_MOD
	bochs_run "$LOG" "$(done_marker "$name")" "$BOCHS_TIMEOUT" "$model" \
		"$cpus" "$GUEST_MEM" "$WORK/test.iso" "$HVLOG"
}

show_logs() {
	show_log "$LOG"
	[ -n "$HVLOG" ] && show_log "$HVLOG"
	[ -f "$WORK/bochs.log" ] && show_log "$WORK/bochs.log" 20
	return 0
}

# guest_report NAME: the run reached the kernel's done line, the kernel's
# own TAP lines, and what the log says about lamina.
guest_report() {
	local name=$1
	if grep -aqE "$(done_marker "$name")" "$LOG"; then
		ok "$name ran to the end ($RUN_STATUS)"
	else
		not_ok "$name ran to the end ($RUN_STATUS)"
		show_logs
	fi
	relay_tap "$LOG"
	if [ -n "$HVLOG" ]; then
		expect_in "$LOG" '^# lamina: present' "$name found lamina"
		if grep -aqFx "# cmdline: $MODSTR" "$LOG"; then
			ok "$name got its module string as command line"
		else
			not_ok "$name got its module string as command line"
			echo "#   want: # cmdline: $MODSTR"
			grep -a '^# cmdline:' "$LOG" | sed 's/^/#   got:  /'
		fi
		expect_not_in "$HVLOG" '[Pp][Aa][Nn][Ii][Cc]' "lamina did not panic"
	else
		expect_in "$LOG" '^# lamina: absent' "$name ran bare"
	fi
	grep -aqE '^not ok - ' "$LOG" && show_logs
	return 0
}

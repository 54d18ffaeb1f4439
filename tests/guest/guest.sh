# Helpers for the test-kernel scripts (tests/guest/*.t): run one kernel,
# bare or as lamina's guest, on QEMU or Bochs, then judge the run.
# Source it (it sources tests/lib/common.sh). After a run:
#   LOG     the guest's COM1 log (its TAP lines)
#   HVLOG   lamina's COM2 log (empty for bare runs)
#   MODSTR  the module string given to lamina (the guest's command line)
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

GUEST_DIR=$BUILD/guest
QEMU_TIMEOUT=${QEMU_TIMEOUT:-60}
BOCHS_TIMEOUT=${BOCHS_TIMEOUT:-180}
GUEST_MEM=${GUEST_MEM:-512}
# A guest that has not started by then will not (lamina failed to boot or
# to start it): the run ends early rather than wait out its timeout.
QEMU_START_TIMEOUT=${QEMU_START_TIMEOUT:-30}
BOCHS_START_TIMEOUT=${BOCHS_START_TIMEOUT:-90}
BOCHS_HASWELL=corei7_haswell_4770
BOCHS_SKYLAKE=corei7_skylake_x
# Bochs's AMD models: a second SVM implementation beside QEMU's, with NRIPS
# (ryzen) and without (phenom, like QEMU).
BOCHS_RYZEN=ryzen
BOCHS_PHENOM=phenom_8650_toliman
LOG=$WORK/com1.log
HVLOG=
MODSTR=
# Further lamina options for the runs under lamina (say mmiotest=...).
HV_ARGS=${HV_ARGS:-}

# What CPUID says on each emulated CPU model, bare (cpu_policy options):
# lamina must pass these through unchanged.
CPUID_EPYC_ROME="vendor=AuthenticAMD leaf1=0x830f10 maxleaf=0xd maxext=0x8000001e"
CPUID_HASWELL="vendor=GenuineIntel leaf1=0x306c3 maxleaf=0xd maxext=0x80000008"
CPUID_SKYLAKE_X="vendor=GenuineIntel leaf1=0x50654 maxleaf=0x16 maxext=0x80000008"
CPUID_RYZEN="vendor=AuthenticAMD leaf1=0x800f11 maxleaf=0xd maxext=0x8000001f"
CPUID_PHENOM="vendor=AuthenticAMD leaf1=0x100f23 maxleaf=0x5 maxext=0x8000001a"

# with_module "ARGS": the runs that follow pass a small file (what the
# hypercall kernel's modules=1 expects) as a further module with that
# command line. MOD_WANT: the command line the kernel should then see.
EXTRA_MOD=
EXTRA_MOD_ARGS=
MOD_WANT=
with_module() {
	EXTRA_MOD=$WORK/module.txt
	EXTRA_MOD_ARGS=$1
	echo "lamina-test-module: passed on to the guest" >"$EXTRA_MOD"
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
ABORT_MARKER='^lamina-test: abort'
# The marker a run waits for: MARKER if set, else the kernel's done line;
# either way also the watchdog's abort line.
run_marker() { echo "${MARKER:-$(done_marker "$1")}|$ABORT_MARKER"; }

# watchdog SECONDS CMD...: runs CMD; if the guest has printed no start
# line after SECONDS, appends an abort line to the file the run watches
# (no one else writes it then), which ends the run.
watchdog() {
	local limit=$1 file=${RUN_WATCH:-$LOG} dog
	shift
	(
		for _ in $(seq "$limit"); do
			sleep 1
			grep -aq '^# lamina-test: start' "$LOG" 2>/dev/null && exit 0
		done
		printf "\nlamina-test: abort: no guest start line after %s s\n" "$limit" >>"$file"
	) &
	dog=$!
	"$@"
	kill "$dog" 2>/dev/null
	wait "$dog" 2>/dev/null
	return 0
}

# guest_qemu_bare NAME "ARGS" SMP [QEMU ARGS...]
guest_qemu_bare() {
	local name=$1 args=$2 smp=$3
	shift 3
	need_built "$GUEST_DIR/$name.elf"
	if [ -n "$EXTRA_MOD" ]; then
		set -- -initrd "$EXTRA_MOD $EXTRA_MOD_ARGS" "$@"
		MOD_WANT="$EXTRA_MOD $EXTRA_MOD_ARGS" # QEMU keeps the path
	fi
	watchdog "$QEMU_START_TIMEOUT" run_until "$LOG" "$(run_marker "$name")" "$QEMU_TIMEOUT" \
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
	need_built "$LAMINA" "$GUEST_DIR/$name.elf"
	if [ -n "$EXTRA_MOD" ]; then
		more=",$EXTRA_MOD $EXTRA_MOD_ARGS"
		MOD_WANT="$EXTRA_MOD $EXTRA_MOD_ARGS"
	fi
	HVLOG=$WORK/com2.log
	MODSTR="$GUEST_DIR/$name.elf $name.elf${args:+ $args}"
	watchdog "$QEMU_START_TIMEOUT" qemu_lamina "$LOG" "$(run_marker "$name")" "$QEMU_TIMEOUT" \
		"$smp" "$GUEST_MEM" "console=com2${HV_ARGS:+ $HV_ARGS}" "$MODSTR$more" \
		-serial "file:$HVLOG" "$@"
}

grub_extra_module() {
	[ -n "$EXTRA_MOD" ] && echo "$1 /boot/$(basename "$EXTRA_MOD") $EXTRA_MOD_ARGS"
	return 0
}

# guest_bochs_bare NAME "ARGS" MODEL CPUS: GRUB `multiboot` on Bochs.
guest_bochs_bare() {
	local name=$1 args=$2 model=$3 cpus=$4
	need_built "$GUEST_DIR/$name.elf"
	MOD_WANT=$EXTRA_MOD_ARGS # GRUB drops the path
	make_iso "$WORK/test.iso" "multiboot /boot/$name.elf${args:+ $args}
$(grub_extra_module module)
boot" "$GUEST_DIR/$name.elf" $EXTRA_MOD
	watchdog "$BOCHS_START_TIMEOUT" bochs_run "$LOG" "$(run_marker "$name")" "$BOCHS_TIMEOUT" \
		"$model" "$cpus" "$GUEST_MEM" "$WORK/test.iso"
}

# guest_bochs_lamina NAME "ARGS" MODEL CPUS: GRUB `multiboot2` lamina
# with the kernel as `module2`.
guest_bochs_lamina() {
	local name=$1 args=$2 model=$3 cpus=$4
	need_built "$LAMINA" "$GUEST_DIR/$name.elf"
	MOD_WANT=$EXTRA_MOD_ARGS
	HVLOG=$WORK/com2.log
	MODSTR="$name.elf${args:+ $args}"
	make_iso "$WORK/test.iso" "multiboot2 /boot/lamina.elf console=com2${HV_ARGS:+ $HV_ARGS}
module2 /boot/$name.elf $MODSTR
$(grub_extra_module module2)
boot" "$LAMINA" "$GUEST_DIR/$name.elf" $EXTRA_MOD
	watchdog "$BOCHS_START_TIMEOUT" bochs_run "$LOG" "$(run_marker "$name")" "$BOCHS_TIMEOUT" \
		"$model" "$cpus" "$GUEST_MEM" "$WORK/test.iso" "$HVLOG"
}

# How a run ended, in words, for a failing check.
run_outcome() {
	local abort
	abort=$(grep -ah "$ABORT_MARKER" "$LOG" ${HVLOG:+"$HVLOG"} 2>/dev/null | head -1)
	echo "${abort#lamina-test: abort: }${abort:+, }$RUN_STATUS"
}

show_logs() {
	show_log "$LOG"
	[ -n "$HVLOG" ] && show_log "$HVLOG"
	[ -f "$WORK/bochs.log" ] && show_log "$WORK/bochs.log" 20
	return 0
}

# The guest's command line, and its further module's, as given.
check_cmdlines() {
	local name=$1 got
	if [ -n "$HVLOG" ]; then
		if grep -aqFx "# cmdline: $MODSTR" "$LOG"; then
			ok "$name got its module string as command line"
		else
			not_ok "$name got its module string as command line"
			echo "#   want: # cmdline: $MODSTR"
			grep -a '^# cmdline:' "$LOG" | sed 's/^/#   got:  /'
		fi
	fi
	[ -n "$EXTRA_MOD" ] || return 0
	got=$(sed -n 's/^# module 0: [0-9a-f-]* "\(.*\)"$/\1/p' "$LOG")
	check "$name got the further module's command line ($got)" [ "$got" = "$MOD_WANT" ]
}

# guest_report NAME: the run reached the kernel's done line, the kernel's
# own TAP lines, and what the logs say about lamina.
guest_report() {
	local name=$1
	if grep -aqE "$(done_marker "$name")" "$LOG"; then
		ok "$name ran to the end ($RUN_STATUS)"
	else
		not_ok "$name ran to the end ($(run_outcome))"
		show_logs
	fi
	relay_tap "$LOG"
	check_cmdlines "$name"
	if [ -n "$HVLOG" ]; then
		expect_in "$LOG" '^# lamina: present' "$name found lamina"
		expect_not_in "$HVLOG" '[Pp][Aa][Nn][Ii][Cc]' "lamina did not panic"
	else
		expect_in "$LOG" '^# lamina: absent' "$name ran bare"
	fi
	grep -aqE '^not ok - ' "$LOG" && show_logs
	return 0
}

# After the protect kernel: lamina logs stores to its memory once per
# page. The kernel names one sampled page in the middle; lamina's log
# must mention an address in it on exactly one line.
# check_intel_msr_refusals: lamina logged cpu_policy's refused XD Bit
# Disable, PEBS_ENABLE, IA32_XSS and overclocking mailbox writes (Intel).
check_intel_msr_refusals() {
	expect_in "$HVLOG" "the guest tried to set XD Bit Disable in MISC_ENABLE: refused" \
		"lamina logged the refused XD Bit Disable"
	expect_in "$HVLOG" "the guest tried to enable PEBS \\(0x1\\): refused" \
		"lamina logged the refused PEBS_ENABLE write"
	expect_in "$HVLOG" "the guest tried to enable Processor Trace state in IA32_XSS \\(0x100\\): refused" \
		"lamina logged the refused IA32_XSS write"
	expect_in "$HVLOG" "the guest tried to write 0x8000001100000000 to voltage/frequency MSR 0x150: refused" \
		"lamina logged the refused overclocking mailbox write"
}

# check_amd_voltage_refusal: lamina logged cpu_policy's refused P-state
# definition write (AMD; the first such write, reported once).
check_amd_voltage_refusal() {
	expect_in "$HVLOG" "the guest tried to write 0x8000000000004010 to voltage/frequency MSR 0xc0010064: refused" \
		"lamina logged the refused P-state definition write"
}

# check_port_refusals: lamina logged protect's a20=1 and cmos=1 refusals.
check_port_refusals() {
	local how
	for how in "port 0x92" "keyboard controller command 0xdd" "keyboard controller output port"; do
		expect_in "$HVLOG" "the guest tried to close the A20 gate \\($how\\): lamina keeps it open" \
			"lamina logged the refused A20 close ($how)"
	done
	expect_in "$HVLOG" "the guest's write of 0xa to the CMOS shutdown byte was dropped" \
		"lamina logged the dropped CMOS shutdown byte"
}

# check_hpet_refusals: lamina logged protect's hpet=1 refusals (the FSB
# enable toward its memory, then a route moved there).
check_hpet_refusals() {
	expect_in "$HVLOG" "the guest turned on HPET timer [0-9]+'s FSB delivery toward 0x[0-9a-f]+, outside the APICs' message range: refused" \
		"lamina logged the refused HPET FSB enable"
	expect_in "$HVLOG" "the guest aimed HPET timer [0-9]+'s FSB delivery at 0x[0-9a-f]+, outside the APICs' message range: refused" \
		"lamina logged the refused HPET FSB route"
}

# check_pc_chipset_refusals: lamina logged protect's pmbase=1, smram=1 and
# pam=1 refusals on the 440FX/PIIX4 (Bochs).
check_pc_chipset_refusals() {
	expect_in "$HVLOG" "pci 00:01.3 \\(8086:7113\\): guest write of 0x[0-9a-f]+ to register 0x40 \\(4 bytes\\) would change bits 0x1000; refused by rule 'memmap: " \
		"lamina logged the refused PMBA move"
	expect_in "$HVLOG" "pci 00:00.0 \\(8086:1237\\): guest write of 0x[0-9a-f]+ to register 0x72 \\(1 bytes\\) would change bits 0x40; refused by rule 'memmap: " \
		"lamina logged the refused SMRAM opening"
	expect_in "$HVLOG" "pci 00:00.0 \\(8086:1237\\): guest write of 0x[0-9a-f]+ to register 0x59 \\(1 bytes\\) would change bits 0x20; refused by rule 'memmap: " \
		"lamina logged the refused PAM0 write"
}

check_logged_once() {
	local page n
	page=$(sed -n 's/^# protect: .* is 0x0*\([0-9a-f]*\)$/\1/p' "$LOG")
	if [ -z "$page" ]; then
		not_ok "lamina logged the stores to a sampled page once (page unknown)"
		return 0
	fi
	n=$(grep -aciE "(^|[^0-9a-fx])(0x)?0*${page%???}[0-9a-f]{3}([^0-9a-f]|$)" "$HVLOG")
	check "lamina logged the stores to page 0x$page once ($n lines)" [ "$n" -eq 1 ]
	expect_in "$HVLOG" ' at guest rip 0x[0-9a-f]+' "lamina's console names the guest RIP"
}

# After a protect run with uart=<lamina's console port>: the log lines for
# the stores made with the UART in the guest's odd states reached the
# console whole.
check_uart_lines() {
	local kind page
	for kind in dlab loop; do
		page=$(sed -n "s/^# protect: uart $kind page 0x0*\([0-9a-f]*\)\$/\1/p" "$LOG")
		if [ -z "$page" ]; then
			not_ok "uart $kind: lamina's log line reached the console (page unknown)"
			continue
		fi
		expect_in "$HVLOG" "guest wrote to lamina's memory at 0x$page \\(CPU [0-9]+\\): dropped; reported once per page" \
			"uart $kind: lamina's log line reached the console whole"
	done
}

# After an mmio run under lamina: its flood of STOSDs into untrapped device
# memory left LOG_LIMIT_BURST (10) warnings per window of 5 s (a window
# starts at the first warning past the last one's end or before its start,
# the clock having been set back, as in core/log_limit.c) and a notice
# that the rest are dropped.
check_warning_limit() {
	local what='emulated accesses to untrapped device memory' windows
	if ! grep -aq '^# mmio: flood of [0-9]* refused stores done' "$LOG"; then
		not_ok "lamina limits a flood of warnings (the guest did not get to its flood)"
		return 0
	fi
	expect_in "$HVLOG" "more than 10 messages about $what in 5 s: the rest are dropped" \
		"lamina says it drops the rest of a flood of warnings"
	# Lines per window, from the timestamps ("[  49.850165] cpu0: ..."):
	# "<most in one window> <count per window...>".
	windows=$(grep -a 'emulation: access to 0x[0-9a-f]* (not RAM, not trapped); #GP' "$HVLOG" |
		sed 's/^\[ *\([0-9.]*\)\].*/\1/' |
		awk '$1 >= end || $1 < start {
				if (n) list = list " " n; n = 0; start = $1; end = $1 + 5 }
			{ n++; if (n > max) max = n }
			END { if (n) list = list " " n; print max + 0 list }')
	check "lamina printed at most 10 of these warnings per 5 s window (most, each: $windows)" \
		[ "${windows%% *}" -ge 1 -a "${windows%% *}" -le 10 ]
}

# After a triple_fault run (RUN_WATCH on lamina's log, RUN_LINGER s):
# lamina said so and was still running RUN_LINGER s later.
check_triple_fault() {
	expect_in "$LOG" '^lamina-test: triple-fault now' "the guest got to its triple fault"
	if [ "$RUN_STATUS" = marker ] && ! grep -aq "$ABORT_MARKER" "$HVLOG"; then
		ok "lamina reported the triple fault and stayed up"
	else
		not_ok "lamina reported the triple fault and stayed up ($(run_outcome))"
		show_logs
	fi
	expect_in "$HVLOG" '[Tt]riple[ -][Ff]ault' "lamina's log names the triple fault"
	expect_not_in "$HVLOG" '[Pp][Aa][Nn][Ii][Cc]' "lamina did not panic"
}

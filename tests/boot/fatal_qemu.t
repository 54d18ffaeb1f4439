#!/usr/bin/env bash
# lamina's fatal-error path (option crash=): the report names the
# exception or panic, shows registers and a call chain with function
# names, and every CPU ends up halted — also CPUs that were running the
# guest (they are stopped by an NMI that lamina intercepts). QEMU's
# monitor tells whether each CPU is halted (HLT=1). The report ends with
# each CPU's last exits.
. "$(dirname "$0")/../guest/guest.sh"
need_built "$LAMINA" "$GUEST_DIR/smp.elf"
PORT=$((20000 + $$ % 30000))

# halted_cpus N: QEMU's monitor shows N CPUs halted in lamina's code
# (RIP in lamina's image, HLT=1), not in the guest's. Polled for up to
# 10 s: the NMIs that stop the other CPUs land a moment after the report.
halted_cpus() {
	local n=0 h=0 regs try
	for try in $(seq 20); do
		regs=$( (exec 3<>/dev/tcp/127.0.0.1/$PORT || exit 0
			 echo "info registers -a" >&3
			 timeout 1 cat <&3) 2>/dev/null)
		n=$(grep -aoE 'RIP=ffffffff8[0-9a-f]+' <<<"$regs" | wc -l)
		h=$(grep -aoE 'HLT=1' <<<"$regs" | wc -l)
		[ "$n" -eq "$1" ] && [ "$h" -eq "$1" ] && break
		sleep 0.5
	done
	check "all $1 CPUs halted in lamina after the report ($n in lamina, $h halted)" \
		[ "$n" -eq "$1" -a "$h" -eq "$1" ]
}

# start_qemu LOG SMP APPEND MODULES: lamina in the background ($QEMU_PID),
# its console in LOG, the monitor on $PORT.
start_qemu() {
	local log=$1 smp=$2 append=$3 mods=$4 initrd=()
	[ -n "$mods" ] && initrd=(-initrd "$mods")
	: >"$log"
	setsid qemu-system-x86_64 -accel tcg -machine q35 -cpu "$QEMU_CPU" -smp "$smp" \
		-m 512 -kernel "$LAMINA" -append "$append" "${initrd[@]}" \
		-serial "file:$log" -display none -no-reboot \
		-monitor "tcp:127.0.0.1:$PORT,server,nowait" </dev/null >"$log.out" 2>&1 &
	QEMU_PID=$!
}

stop_qemu() {
	kill -- -"$QEMU_PID" 2>/dev/null
	wait "$QEMU_PID" 2>/dev/null
}

# reported_and_halted WHAT LOG SMP: the report ends and every CPU halts.
reported_and_halted() {
	if wait_for "$2" '^lamina: stopping all CPUs' 60 "$QEMU_PID"; then
		halted_cpus "$3"
	else
		not_ok "$1: lamina reported and stopped"
		show_log "$2"
	fi
}

# crash_run MODE SMP MODULES: run until the report ends, then ask QEMU.
crash_run() {
	start_qemu "$WORK/$1.log" "$2" "crash=$1" "$3"
	reported_and_halted "crash=$1" "$WORK/$1.log" "$2"
	stop_qemu
}

crash_run fault 2 ""
expect_in "$WORK/fault.log" 'FATAL: exception #UD invalid opcode \(vector 6' "crash=fault: the exception is named"
expect_in "$WORK/fault.log" '^  rip ffffffff8[0-9a-f]+  rsp ' "crash=fault: registers are shown"
expect_in "$WORK/fault.log" '^    ffffffff8[0-9a-f]+ crash_on_purpose\+0x' "crash=fault: the call chain names the faulting function"
expect_in "$WORK/fault.log" '^    ffffffff8[0-9a-f]+ lamina_main\+0x' "crash=fault: and its caller"
expect_not_in "$WORK/fault.log" 'exits, newest first' "crash=fault: no exit history before the guest ran"

crash_run panic 2 ""
expect_in "$WORK/panic.log" 'PANIC on cpu0: crash=panic given on the command line' "crash=panic: the message is shown"
expect_in "$WORK/panic.log" '^    ffffffff8[0-9a-f]+ lamina_main\+0x' "crash=panic: the call chain starts at the caller"

# The guest's APs are running when the smp kernel makes its first hypercall.
crash_run hypercall 4 "$GUEST_DIR/smp.elf smp.elf"
expect_in "$WORK/hypercall.log" 'every AP runs the guest' "crash=hypercall: the APs were running the guest"
expect_in "$WORK/hypercall.log" '^    ffffffff8[0-9a-f]+ exit_hypercall\+0x' "crash=hypercall: the chain goes through the exit handler"
newest=$(grep -a -A1 "^  cpu0's last [0-9]* of [0-9]* exits, newest first:" "$WORK/hypercall.log" | sed -n 2p)
check "crash=hypercall: the crashing CPU's newest exit is the hypercall, with its function (${newest:-none})" \
	grep -qE '^    hypercall +rip 0+1[0-9a-f]+  code 0x81  [0-9]+ us before  function 0x4c4d' <<<"$newest"
expect_in "$WORK/hypercall.log" "^  cpu0's last 16 of [0-9]+ exits" "crash=hypercall: up to 16 of them"
expect_in "$WORK/hypercall.log" "^  cpu[123]'s last [0-9]+ of [0-9]+ exits" "crash=hypercall: and the other CPUs' last ones"

# A machine check while lamina runs: QEMU's monitor injects one (bank 1,
# uncorrected, address 0x12345000 valid) into CPU 0, idle in lamina after
# refusing its module. It is reported with the bank's status and address
# and every CPU stops; without CR4.MCE it shut the machine down unreported.
printf 'not a kernel\n' >"$WORK/notes.txt"
start_qemu "$WORK/mce.log" 2 "" "$WORK/notes.txt"
if wait_for "$WORK/mce.log" 'lamina stays up with no guest running' 60 "$QEMU_PID"; then
	(exec 3<>/dev/tcp/127.0.0.1/$PORT && echo "mce 0 1 0xb600000000000000 0x5 0x12345000 0" >&3 &&
	 timeout 1 cat <&3 >/dev/null) 2>/dev/null
	reported_and_halted "machine check" "$WORK/mce.log" 2
else
	not_ok "machine check: lamina came up idle"
fi
stop_qemu
expect_in "$WORK/mce.log" 'FATAL: exception #MC machine check \(vector 18' "machine check: the exception is named"
expect_in "$WORK/mce.log" '^  MC1_STATUS b600000000000000  ADDR 0000000012345000' "machine check: the bank's status and address are shown"
finish

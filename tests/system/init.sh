#!/bin/sh
# /init of the test initramfs (tests/system/mkinitramfs.sh). The kernel
# command line picks the scenario: lamina.test=check|bench|pci|hotplug|sleep|shell
# (default shell), lamina.work=PART,... the workload's parts (default all; Bochs
# runs skip the long cpu part), lamina.nmi=1 an NMI backtrace of every CPU
# after the workload (check). Results go to the console as
# "LTEST: KEY: VALUE" lines, the run ends with "LTEST: done" and a power-off.
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
# If the kernel found no /dev/console in the archive, stdio is closed.
[ -t 1 ] || exec </dev/console >/dev/console 2>&1
echo "LTEST: init"
mount -t proc proc /proc
mount -t sysfs sysfs /sys
dmesg -n 1 # kernel messages off the console: they would split our lines

say() { echo "LTEST: $*"; }

# report KEY CMD...: the command's output as "LTEST: KEY: LINE" lines, then
# its exit status as "LTEST: KEY.rc: N".
report() {
	key=$1
	shift
	"$@" >/tmp/report.out 2>&1
	rc=$?
	while IFS= read -r line; do say "$key: $line"; done </tmp/report.out
	say "$key.rc: $rc"
}

load_modules() {
	[ -f /etc/modules ] || return 0
	while read -r ko; do
		insmod "/lib/modules/$ko" || say "error: insmod $ko failed"
	done </etc/modules
}

scenario_check() {
	say "cpus.online: $(cat /sys/devices/system/cpu/online)"
	say "cpus.nproc: $(nproc)"
	dmesg | grep -o 'BIOS-e820: .*' | while IFS= read -r line; do
		say "e820: ${line#BIOS-e820: }"
	done
	# What the kernel said of the MTRRs (lamina refuses some writes).
	dmesg | grep -i 'mtrr' | while IFS= read -r line; do say "mtrr: $line"; done
	# The ACPI sleep states the kernel found (lamina hides S2 and S3).
	say "acpi.sleep: $(dmesg | sed -n 's/.*ACPI: PM: (supports \(.*\))/\1/p')"
	report version laminactl version
	report meminfo laminactl meminfo
	workload $work_parts
	[ -z "$nmi_check" ] || nmi_backtrace
	report stats laminactl stats
}

# lamina.nmi=1: every CPU dumps its stack from an NMI (sysrq l); each CPU
# whose backtrace came is reported as "nmi: cpuN".
nmi_backtrace() {
	echo 1 >/proc/sys/kernel/sysrq
	echo l >/proc/sysrq-trigger
	sleep 1
	echo # sysrq's own console line may have cut ours
	dmesg | sed -n 's/.*NMI backtrace for cpu \([0-9]*\).*/\1/p' | sort -u |
		while read -r cpu; do say "nmi: cpu$cpu"; done
}

# The workload between two snapshots of lamina's exit counts.
scenario_bench() {
	say "cpus.online: $(cat /sys/devices/system/cpu/online)"
	report stats.before laminactl stats
	workload $work_parts
	report stats.after laminactl stats
}

# Every PCI function the kernel found, with the first 64 bytes of its
# configuration space (device mediation tests compare these).
scenario_pci() {
	for d in /sys/bus/pci/devices/*; do
		say "pci: ${d##*/} $(od -An -v -tx1 -N64 "$d/config" | tr -s ' \n' ' ')"
	done
	# What the guest can read of lamina's log (it must not name what is
	# concealed from it).
	[ -e /sys/bus/pci ] && report log laminactl log
}

# CPU 1 offline and back online, twice (Linux sends INIT-SIPI-SIPI again
# each time), then whether each CPU still runs under lamina: laminactl
# pinned to it answers only there.
scenario_hotplug() {
	for round in 1 2; do
		echo 0 >/sys/devices/system/cpu/cpu1/online
		say "offline$round: $? $(cat /sys/devices/system/cpu/online)"
		echo 1 >/sys/devices/system/cpu/cpu1/online
		say "online$round: $? $(cat /sys/devices/system/cpu/online)"
	done
	report cpu0.version taskset -c 0 laminactl version
	report cpu1.version taskset -c 1 laminactl version
	report stats laminactl stats
}

# Suspend to RAM under lamina (docs/architecture.md, core/suspend.c): the
# sleep states Linux offers; S3's sleep type written straight to PM1a_CNT
# while no waking vector is set (lamina refuses it: it could not wake the
# guest); then S3 twice with an RTC alarm to wake from, and whether both
# CPUs run under lamina afterwards and still compute.
scenario_sleep() {
	say "mem_sleep: $(cat /sys/power/mem_sleep)"
	typ=$(laminactl log | sed -n 's/.*\\_S3 (SLP_TYP \([0-7]\)\/.*/\1/p' | head -n 1)
	say "pm1.typ: ${typ:-none}"
	[ -z "$typ" ] || report pm1 pm1_sleep "$typ"
	echo deep >/sys/power/mem_sleep 2>/dev/null
	say "mem_sleep.deep: $?"
	for round in 1 2; do
		echo 0 >/sys/class/rtc/rtc0/wakealarm
		echo +3 >/sys/class/rtc/rtc0/wakealarm
		say "suspend$round: begin"
		echo mem >/sys/power/state
		say "suspend$round.rc: $?"
	done
	say "s3.count: $(cat /sys/power/suspend_stats/success 2>/dev/null)"
	say "cpus.online: $(cat /sys/devices/system/cpu/online)"
	report cpu0.version taskset -c 0 laminactl version
	report cpu1.version taskset -c 1 laminactl version
	report work workload cpu
}

scenario_shell() {
	dmesg -n 7
	echo "lamina test shell: 'laminactl help' lists its commands;"
	echo "'poweroff -f' ends the run (in QEMU, Ctrl-A X also does)."
	setsid cttyhack sh -l
}

scenario=shell
work_parts=
nmi_check=
for word in $(cat /proc/cmdline); do
	case $word in
	lamina.test=*) scenario=${word#lamina.test=} ;;
	lamina.work=*) work_parts=$(echo "${word#lamina.work=}" | tr , ' ') ;;
	lamina.nmi=1) nmi_check=1 ;;
	esac
done
say "scenario: $scenario"
load_modules
case $scenario in
check | bench | pci | hotplug | sleep | shell)
	"scenario_$scenario"
	say done
	;;
*) say "error: unknown scenario '$scenario' (lamina.test=check|bench|pci|hotplug|sleep|shell)" ;;
esac
# Let the serial console drain first: an emulated UART that keeps time
# (Bochs) is still sending the last lines when poweroff -f cuts power.
sleep 1
poweroff -f

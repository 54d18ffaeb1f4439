# Booting Linux in QEMU TCG or Bochs, with or without lamina, and reading
# what the test initramfs's /init reports: sourced by the system tests
# (lib.sh), mkinitramfs.sh, bench.sh and `make run` (run.sh).
_linux_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAMINA=${LAMINA:-${BUILD:-$_linux_top/build}/lamina.elf}
QEMU_CPU=${QEMU_CPU:-EPYC-Rome,+svm,+npt}
# The guest's console on COM1; a panic reboots, which ends QEMU (-no-reboot).
LINUX_CONSOLE="console=ttyS0,115200 panic=-1"

# The kernel to boot: LINUX_KERNEL, or the newest /boot/vmlinuz-*
# (Debian's linux-image-amd64).
linux_kernel() {
	if [ -n "${LINUX_KERNEL:-}" ]; then
		echo "$LINUX_KERNEL"
	else
		ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1
	fi
}

# Its version, which names /lib/modules/<version>.
linux_version() {
	local k
	k=$(linux_kernel)
	echo "${KERNEL_VERSION:-${k##*/vmlinuz-}}"
}

# qemu_linux MODE SMP MEM "KERNEL ARGS" INITRD ["LAMINA ARGS"]
# Sets QEMU_CMD to boot Linux on q35 TCG, MODE "lamina" (lamina with the
# bzImage and initrd as Multiboot modules) or "bare" (-kernel bzImage). The
# caller adds -serial and -monitor options.
qemu_linux() {
	local mode=$1 smp=$2 mem=$3 kargs=$4 initrd=$5 largs=${6:-} kernel
	kernel=$(linux_kernel)
	QEMU_CMD=(qemu-system-x86_64 -accel tcg -machine q35 -cpu "$QEMU_CPU"
		-smp "$smp" -m "$mem" -display none -no-reboot)
	case $mode in
	lamina) # a comma inside a module's command line is written ",,"
		QEMU_CMD+=(-kernel "$LAMINA" -append "$largs"
			-initrd "$kernel ${kargs//,/,,},$initrd") ;;
	bare) QEMU_CMD+=(-kernel "$kernel" -append "$kargs" -initrd "$initrd") ;;
	*) echo "qemu_linux: unknown mode '$mode'" >&2; return 1 ;;
	esac
}

# Bochs (VT-x): GRUB ISOs, 2 CPUs of a Haswell (EPT, VPID, unrestricted
# guest), 1 GiB. Linux on Bochs takes minutes, not seconds (PLATFORM.md).
. "$_linux_top/tests/lib/bochs.sh"
BOCHS_LINUX_MODEL=${BOCHS_LINUX_MODEL:-corei7_haswell_4770}
BOCHS_LINUX_MEGS=${BOCHS_LINUX_MEGS:-1024}

# bochs_linux_iso MODE ISO "KERNEL ARGS" INITRD ["LAMINA ARGS"]
# Makes a GRUB ISO (in $WORK) that boots Linux, MODE "lamina" (multiboot2
# lamina, the bzImage and the initrd as module2; each module's command
# line starts with a name, as QEMU's -initrd ones start with the path) or
# "bare" (GRUB's linux and initrd). Run it with bochs_config/BOCHS_CMD.
bochs_linux_iso() {
	local mode=$1 iso=$2 kargs=$3 initrd=$4 largs=${5:-} kernel k i
	kernel=$(linux_kernel)
	k=${kernel##*/} i=${initrd##*/}
	case $mode in
	lamina) make_iso "$iso" "multiboot2 /boot/lamina.elf $largs
module2 /boot/$k $k $kargs
module2 /boot/$i $i
boot" "$LAMINA" "$kernel" "$initrd" ;;
	bare) make_iso "$iso" "linux /boot/$k $kargs
initrd /boot/$i
boot" "$kernel" "$initrd" ;;
	*) echo "bochs_linux_iso: unknown mode '$mode'" >&2; return 1 ;;
	esac
}

# ltest LOG KEY: the values of /init's "LTEST: KEY: VALUE" lines.
ltest() {
	tr -d '\r' <"$1" | sed -n "s/^LTEST: $2: //p"
}

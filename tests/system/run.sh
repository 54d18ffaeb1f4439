#!/usr/bin/env bash
# `make run`: boot Linux under lamina in QEMU TCG (q35, EPYC-Rome with SVM
# and NPT, 2 CPUs, 1 GiB) with a busybox shell; lamina's log (COM1 unless
# LAMINA_ARGS says otherwise) and the guest's console share this terminal.
# `poweroff -f` in the shell or Ctrl-A X ends it.
#   LAMINA_ARGS  lamina's command line
#   LINUX_ARGS   added to the kernel's command line
#   RUN_MODE     "lamina" (default) or "bare" (the same Linux without lamina)
#   RUN_TIMEOUT  seconds before QEMU is stopped (default: none)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/linux.sh"
work=${BUILD:-$here/../../build}/run
mode=${RUN_MODE:-lamina}
mkdir -p "$work"

"$here/mkinitramfs.sh" "$work/initramfs.cpio"
qemu_linux "$mode" 2 1G "$LINUX_CONSOLE lamina.test=shell ${LINUX_ARGS:-}" \
	"$work/initramfs.cpio" "${LAMINA_ARGS:-}"
echo "run: $(linux_kernel) ($mode); 'poweroff -f' or Ctrl-A X ends the run" >&2
# QEMU warns, once per CPU, of each EPYC-Rome feature TCG lacks: harmless.
exec 2> >(grep -v "TCG doesn't support requested feature" >&2)
if [ -n "${RUN_TIMEOUT:-}" ]; then
	exec timeout --foreground "$RUN_TIMEOUT" "${QEMU_CMD[@]}" -serial mon:stdio
fi
exec "${QEMU_CMD[@]}" -serial mon:stdio

#!/usr/bin/env bash
# CPU offline/online under lamina on QEMU TCG (AMD-V), 2 CPUs: Linux takes
# CPU 1 offline and brings it back twice. The CPU must come back under
# lamina (QEMU resets a CPU that an INIT reaches, so lamina has to catch
# the INIT and SIPI at the sender, see docs/architecture.md), and both
# CPUs must answer lamina's hypercalls afterwards.
. "$(dirname "$0")/lib.sh"
need "$LAMINA" "$BUILD/laminactl" "$BUILD/workload" "$(linux_kernel)" || finish

linux_under_lamina_qemu 2 1G "lamina.test=hotplug"

check_hotplug "$log" "$lamina_log"
check "poweroff -f ends QEMU within the timeout ($RUN_STATUS)" [ "$RUN_STATUS" = exit:0 ]
finish_linux

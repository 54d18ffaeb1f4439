#!/usr/bin/env bash
# cpu_policy bare on QEMU: the kernel's checks hold without lamina (and the CPUID expectations are right).
. "$(dirname "$0")/guest.sh"
guest_qemu_bare cpu_policy "$CPUID_EPYC_ROME" 1
guest_report cpu_policy
finish

#!/usr/bin/env bash
# chaos on QEMU (AMD-V), 2 CPUs: random operations at lamina's intercepts
# from both CPUs at once (tests/guest/chaos.c), bare first (the kernel's
# own expectations hold on the emulator), then under lamina with the PCI
# rule engine busy (conceal=, nodma=, nomsi=): every answer as the
# hardware or the ABI gives it, lamina's memory intact, no panic.
. "$(dirname "$0")/guest.sh"
ARGS="seed=${CHAOS_SEED:-20261122} rounds=${CHAOS_ROUNDS:-20000}"
guest_qemu_bare chaos "$ARGS" ${CHAOS_CPUS:-2}
guest_report chaos
HV_ARGS="mmiotest=0x2000000 conceal=00:02.0 nodma=00:1f.3 nomsi=00:1f.2" guest_qemu_lamina chaos "$ARGS page=0x2000000" ${CHAOS_CPUS:-2}
guest_report chaos
finish

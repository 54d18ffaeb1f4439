#!/usr/bin/env bash
# chaos on Bochs (VT-x, Haswell; CHAOS_MODEL picks another), 2 CPUs:
# random operations at lamina's intercepts from both CPUs at once
# (tests/guest/chaos.c), bare first, then under lamina with the USB
# controller concealed and the IDE controller kept from DMA. Fewer rounds
# than on QEMU: Bochs is slower.
. "$(dirname "$0")/guest.sh"
MODEL=${CHAOS_MODEL:-$BOCHS_HASWELL}
ARGS="seed=${CHAOS_SEED:-20261122} rounds=${CHAOS_ROUNDS:-4000}"
guest_bochs_bare chaos "$ARGS" "$MODEL" 2
guest_report chaos
HV_ARGS="mmiotest=0x2000000 conceal=00:01.2 nodma=00:01.1" guest_bochs_lamina chaos "$ARGS page=0x2000000" "$MODEL" 2
guest_report chaos
finish

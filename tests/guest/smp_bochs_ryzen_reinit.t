#!/usr/bin/env bash
# smp under lamina on Bochs Ryzen (AMD-V), 2 CPUs, reinit=parked: the guest
# sends INIT-SIPI-SIPI to an AP that runs, without the WBINVD lamina watches
# for. The INIT stays pending while GIF is 0 (Bochs holds it, as the APM
# says), so lamina halts that CPU and lets the rest of the guest run on.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina smp "reinit=parked" $BOCHS_RYZEN 2
guest_report smp
expect_in "$HVLOG" "the guest sent INIT to CPU 1 while that CPU ran the guest .*it halts in lamina" \
	"lamina says why CPU 1 stays down"
expect_not_in "$HVLOG" "guest stopped" "lamina did not stop the guest"
finish

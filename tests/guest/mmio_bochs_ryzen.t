#!/usr/bin/env bash
# mmio_bochs.t on Bochs Ryzen (AMD-V): the trapped page reached through nested page faults.
MMIO_MODEL=ryzen
# Bochs 2.7 leaves DR6 alone at an intercepted #DB (see check_dr6 in lib/trap.c).
MMIO_EXTRA="stale_dr6=1"
. "$(dirname "$0")/mmio_bochs.t"

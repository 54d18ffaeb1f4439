#!/usr/bin/env bash
# linux_bochs.t on Bochs Zambezi: AMD-V with NRIPS in Bochs's own SVM, a
# second implementation beside QEMU's. (Bochs's Ryzen model does not boot
# Linux 6.1 even without lamina.)
BOCHS_LINUX_MODEL=zambezi
. "$(dirname "$0")/linux_bochs.t"

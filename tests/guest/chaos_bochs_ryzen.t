#!/usr/bin/env bash
# chaos_bochs.t on Bochs Ryzen (AMD-V with NRIPS, unlike QEMU's EPYC-Rome).
CHAOS_MODEL=ryzen
. "$(dirname "$0")/chaos_bochs.t"

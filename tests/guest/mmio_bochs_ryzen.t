#!/usr/bin/env bash
# mmio_bochs.t on Bochs Ryzen (AMD-V): the trapped page reached through nested page faults.
MMIO_MODEL=ryzen
. "$(dirname "$0")/mmio_bochs.t"

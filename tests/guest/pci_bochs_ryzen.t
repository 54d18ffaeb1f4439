#!/usr/bin/env bash
# pci_bochs.t on Bochs Ryzen (AMD-V): CF8/CFC through SVM's I/O permission map.
PCI_MODEL=ryzen
. "$(dirname "$0")/pci_bochs.t"

# PCI mediation: host unit tests of the config-space rule engine and of the
# checks of what BARs and the MCFG table report.
$(eval $(call unit_test,test_pci_rules,tests/unit/test_pci_rules.c core/pci/pci_rules.c))
$(eval $(call unit_test,test_pci_checks,tests/unit/test_pci_checks.c core/pci/pci_checks.c))

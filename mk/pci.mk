# PCI mediation: host unit tests of the config-space rule engine, of the
# checks of what BARs and the MCFG table report, and of the lists of
# functions the drivers' options name.
$(eval $(call unit_test,test_pci_rules,tests/unit/test_pci_rules.c core/pci/pci_rules.c))
$(eval $(call unit_test,test_pci_checks,tests/unit/test_pci_checks.c core/pci/pci_checks.c))
$(eval $(call unit_test,test_pci_select,tests/unit/test_pci_select.c core/pci/pci_select.c \
	core/options.c core/lib/format.c core/lib/string.c))
$(eval $(call unit_test,test_pci_conceal,tests/unit/test_pci_conceal.c drivers/pci/conceal.c \
	core/pci/pci_driver.c core/pci/pci_select.c core/pci/pci_checks.c \
	core/pci/pci_ecam_guard.c core/pci/pci_rules.c core/options.c core/lib/format.c \
	core/lib/string.c))

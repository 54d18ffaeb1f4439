# PCI mediation: host unit tests of the config-space rule engine.
$(eval $(call unit_test,test_pci_rules,tests/unit/test_pci_rules.c core/pci/pci_rules.c))

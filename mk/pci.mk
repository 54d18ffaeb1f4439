# PCI mediation: host unit tests of the config-space rule engine.
ifndef unit_test
include mk/unit.mk
endif
$(eval $(call unit_test,test_pci_rules,tests/unit/test_pci_rules.c core/pci/pci_rules.c))

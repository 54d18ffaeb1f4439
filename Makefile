# lamina — top-level build. Each part of the tree has its fragment in mk/.
#   make          build build/lamina.elf, build/laminactl and the test kernels
#   make run      boot Linux under lamina in QEMU, shell on this terminal
#   make test     every test; prints "N passed, M failed" last
#   make bench    Linux with and without lamina, ratios
.DEFAULT_GOAL := all
BUILD := build

# config.mk and unit.mk (the unit_test macro) first; the rest in name order.
include mk/config.mk mk/unit.mk
include $(sort $(filter-out mk/config.mk mk/unit.mk,$(wildcard mk/*.mk)))

all: $(ALL_TARGETS)
unit: $(UNIT_TESTS)

clean:
	rm -rf $(BUILD)

.PHONY: all clean unit

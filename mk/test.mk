# make test: install what is missing, build everything, run every test
# (host unit tests, test kernels under lamina, real Linux), two at a time,
# and print "N passed, M failed" last. TESTS=pattern runs a subset.
TEST_SCRIPTS = $(sort $(wildcard tests/*/*.t))
# The slow ones (Bochs, Linux) start first so the two lanes end together.
TEST_ORDER = $(filter %bochs%.t,$(TEST_SCRIPTS)) \
	$(filter-out %bochs%.t,$(filter %linux%.t,$(TEST_SCRIPTS))) \
	$(filter-out %bochs%.t %linux%.t,$(TEST_SCRIPTS)) $(UNIT_TESTS)
TESTS ?=

test: deps
	$(Q)$(MAKE) --no-print-directory all unit
	$(Q)tests/harness.sh $(if $(TESTS),$(filter $(TESTS),$(TEST_ORDER)),$(TEST_ORDER))

.PHONY: test

# Host unit tests: $(eval $(call unit_test,NAME,SOURCES,EXTRA_LIBS)) in a
# fragment adds build/unit/NAME to the suite.
UNIT_HOST_SRCS := tests/unit/host_env.c

define unit_test
UNIT_TESTS += $(BUILD)/unit/$(1)
$(BUILD)/unit/$(1): $(2) $(UNIT_HOST_SRCS)
	@mkdir -p $$(@D)
	$$(Q)$(HOSTCC) $(UNIT_CFLAGS) -MF $$@.d -o $$@ $(2) $(UNIT_HOST_SRCS) $(UNIT_LIBS) $(3)
-include $(BUILD)/unit/$(1).d
endef

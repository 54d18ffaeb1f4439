# Host unit tests: $(eval $(call unit_test,NAME,SOURCES,EXTRA_LIBS)) in a
# fragment adds build/unit/NAME to the suite. Each binary is compiled from
# all its sources at once, where -MMD would keep one source's headers: the
# dependencies of all of them come from a separate -MM pass.
UNIT_HOST_SRCS := tests/unit/host_env.c

define unit_test
UNIT_TESTS += $(BUILD)/unit/$(1)
$(BUILD)/unit/$(1): $(2) $(UNIT_HOST_SRCS)
	@mkdir -p $$(@D)
	$$(Q)$(HOSTCC) $(UNIT_CFLAGS) -o $$@ $(2) $(UNIT_HOST_SRCS) $(UNIT_LIBS) $(3)
	$$(Q)$(HOSTCC) $(UNIT_CFLAGS) $(filter -I% -D%,$(3)) -MM -MP -MT $$@ $(2) $(UNIT_HOST_SRCS) > $$@.d
-include $(BUILD)/unit/$(1).d
endef

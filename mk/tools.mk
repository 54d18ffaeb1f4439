# Guest-side tools: static Linux x86-64 programs built with the host
# compiler against glibc's libc.a (libc6-dev).
TOOL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -g -Wall -Wextra -Werror \
	-Wshadow -Wstrict-prototypes -Wmissing-prototypes -Iinclude -MMD -MP
TOOL_LDFLAGS := -static

LAMINACTL_SRCS := $(wildcard tools/laminactl/*.c)
LAMINACTL_OBJS := $(LAMINACTL_SRCS:%.c=$(BUILD)/%.o)

$(BUILD)/tools/%.o: tools/%.c
	@mkdir -p $(@D)
	$(Q)$(HOSTCC) $(TOOL_CFLAGS) -Itools/laminactl -c -o $@ $<

$(BUILD)/laminactl: $(LAMINACTL_OBJS)
	$(Q)$(HOSTCC) $(TOOL_LDFLAGS) -o $@ $^

ALL_TARGETS += $(BUILD)/laminactl
-include $(LAMINACTL_OBJS:.o=.d)

# laminactl's commands on the host, against a simulated lamina. (mk/unit.mk's
# unit_test macro is not defined yet when this fragment is read.)
LAMINACTL_TEST_SRCS := $(filter-out %/main.c %/hypercall.c,$(LAMINACTL_SRCS)) \
	$(wildcard tools/laminactl/test/*.c)
UNIT_TESTS += $(BUILD)/unit/laminactl
$(BUILD)/unit/laminactl: $(LAMINACTL_TEST_SRCS)
	@mkdir -p $(@D)
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) -MF $@.d -o $@ $^ $(UNIT_LIBS)
-include $(BUILD)/unit/laminactl.d

# The fixed workload that Linux runs in the system tests and `make bench`.
WORKLOAD_SRCS := $(wildcard tests/system/workload/*.c)
WORKLOAD_OBJS := $(WORKLOAD_SRCS:%.c=$(BUILD)/%.o)

$(BUILD)/tests/system/workload/%.o: tests/system/workload/%.c
	@mkdir -p $(@D)
	$(Q)$(HOSTCC) $(TOOL_CFLAGS) -c -o $@ $<

$(BUILD)/workload: $(WORKLOAD_OBJS)
	$(Q)$(HOSTCC) $(TOOL_LDFLAGS) -o $@ $^

ALL_TARGETS += $(BUILD)/workload
-include $(WORKLOAD_OBJS:.o=.d)

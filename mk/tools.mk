# Guest-side programs: static Linux x86-64 binaries built with the host
# compiler against glibc's libc.a (libc6-dev): laminactl, and the fixed
# workload that Linux runs in the system tests and `make bench`.
TOOL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -g -Wall -Wextra -Werror \
	-Wshadow -Wstrict-prototypes -Wmissing-prototypes -Iinclude -MMD -MP
TOOL_LDFLAGS := -static

LAMINACTL_SRCS := $(wildcard tools/laminactl/*.c)
LAMINACTL_OBJS := $(LAMINACTL_SRCS:%.c=$(BUILD)/%.o)
WORKLOAD_SRCS := $(wildcard tests/system/workload/*.c)
WORKLOAD_OBJS := $(WORKLOAD_SRCS:%.c=$(BUILD)/%.o)
# A system-test helper: runs a command with the synchronous signals blocked.
BLOCKED_OBJS := $(BUILD)/tests/system/blocked/blocked.o
# A guest-side one: a sleep written straight to PM1a_CNT (the sleep test).
PM1_SLEEP_OBJS := $(BUILD)/tests/system/pm1_sleep/pm1_sleep.o

$(LAMINACTL_OBJS) $(WORKLOAD_OBJS) $(BLOCKED_OBJS) $(PM1_SLEEP_OBJS): $(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(Q)$(HOSTCC) $(TOOL_CFLAGS) -c -o $@ $<

$(BUILD)/laminactl: $(LAMINACTL_OBJS)
	$(Q)$(HOSTCC) $(TOOL_LDFLAGS) -o $@ $^

$(BUILD)/workload: $(WORKLOAD_OBJS)
	$(Q)$(HOSTCC) $(TOOL_LDFLAGS) -o $@ $^

$(BUILD)/blocked: $(BLOCKED_OBJS)
	$(Q)$(HOSTCC) -o $@ $^

$(BUILD)/pm1_sleep: $(PM1_SLEEP_OBJS)
	$(Q)$(HOSTCC) $(TOOL_LDFLAGS) -o $@ $^

ALL_TARGETS += $(BUILD)/laminactl $(BUILD)/workload $(BUILD)/blocked $(BUILD)/pm1_sleep
-include $(LAMINACTL_OBJS:.o=.d) $(WORKLOAD_OBJS:.o=.d) $(BLOCKED_OBJS:.o=.d) \
	$(PM1_SLEEP_OBJS:.o=.d)

# laminactl's commands on the host, against a simulated lamina.
$(eval $(call unit_test,laminactl,$(filter-out %/main.c %/hypercall.c,$(LAMINACTL_SRCS)) \
	$(wildcard tools/laminactl/test/*.c),))
# Its fault guard, with the real signal handling and a faulting stand-in.
$(eval $(call unit_test,laminactl_guard,tools/laminactl/hypercall.c \
	$(wildcard tools/laminactl/test_guard/*.c),))

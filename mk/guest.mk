# Test kernels that run as lamina's guest (tests/guest/): 32-bit Multiboot1
# ELF images built from tests/guest/NAME.c and the library in
# tests/guest/lib/, with no libc and no libgcc (so no gcc-multilib needed).
GUEST_KERNELS := chaos cpu_policy debug hypercall mmio nmi pci protect smp task_switch triple_fault
GUEST_ELFS := $(GUEST_KERNELS:%=$(BUILD)/guest/%.elf)
GUEST_OBJ := $(BUILD)/guest/obj
GUEST_LD_SCRIPT := tests/guest/lib/guest.ld

# No SSE or x87 (CR4.OSFXSR is clear at entry), no builtins that turn
# loops into calls to memset, nothing that needs a runtime.
GUEST_CFLAGS := -std=c11 -m32 -march=i686 -ffreestanding -fno-pic -fno-pie \
	-nostdlib -fno-stack-protector -fno-builtin -mgeneral-regs-only \
	-fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables \
	-fcf-protection=none -fno-strict-aliasing -O2 -g \
	-Wall -Wextra -Werror -Wno-unused-parameter -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes \
	-Iinclude -Itests/guest/lib -MMD -MP
GUEST_ASFLAGS := -m32 -Iinclude -Itests/guest/lib -D__ASSEMBLY__ -MMD -MP -g
GUEST_LDFLAGS := -m elf_i386 -nostdlib -static --build-id=none \
	-z max-page-size=4096 -z noexecstack --no-warn-rwx-segments -T $(GUEST_LD_SCRIPT)

GUEST_LIB_SRCS := $(wildcard tests/guest/lib/*.c tests/guest/lib/*.S)
GUEST_LIB_OBJS := $(GUEST_LIB_SRCS:tests/guest/%=$(GUEST_OBJ)/%.o) \
	$(GUEST_OBJ)/core/string.c.o $(GUEST_OBJ)/core/format.c.o

$(GUEST_OBJ)/%.c.o: tests/guest/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(GUEST_CFLAGS) -c -o $@ $<

# lamina's string and format functions serve the test kernels too (no
# libc).
$(GUEST_OBJ)/core/%.c.o: core/lib/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_OBJ)/%.S.o: tests/guest/%.S
	@mkdir -p $(@D)
	$(Q)$(CC) $(GUEST_ASFLAGS) -c -o $@ $<

$(GUEST_ELFS): $(BUILD)/guest/%.elf: $(GUEST_OBJ)/%.c.o $(GUEST_LIB_OBJS) $(GUEST_LD_SCRIPT)
	$(Q)$(LD) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

ALL_TARGETS += $(GUEST_ELFS)
guest: $(GUEST_ELFS)
.PHONY: guest

-include $(wildcard $(GUEST_OBJ)/*.d $(GUEST_OBJ)/lib/*.d $(GUEST_OBJ)/core/*.d)

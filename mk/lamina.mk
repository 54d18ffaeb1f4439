# The hypervisor image, build/lamina.elf. Every .c and .S file in the
# directories below is part of it; other fragments add to HV_SRCS.
HV_DIRS := core core/lib core/mm core/loader core/pci drivers/pci arch/x86 arch/x86/boot arch/x86/svm arch/x86/vmx
HV_SRCS += $(foreach d,$(HV_DIRS),$(wildcard $(d)/*.c) $(wildcard $(d)/*.S))
HV_OBJS = $(patsubst %,$(BUILD)/hv/%.o,$(basename $(HV_SRCS)))
HV_LDS := arch/x86/boot/lamina.ld
HV_LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments -T $(HV_LDS)

ALL_TARGETS += $(BUILD)/lamina.elf

$(BUILD)/hv/%.o: %.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(HV_CFLAGS) -c -o $@ $<

$(BUILD)/hv/%.o: %.S
	@mkdir -p $(@D)
	$(Q)$(CC) $(HV_ASFLAGS) -c -o $@ $<

# Two links: the first one's function addresses become the name table of
# the second (the table sits after code and data, so they do not move).
$(BUILD)/hv/symbols-empty.S: tools/gen-symbols.sh
	@mkdir -p $(@D)
	$(Q)tools/gen-symbols.sh > $@
$(BUILD)/lamina.0.elf: $(HV_OBJS) $(BUILD)/hv/symbols-empty.o $(HV_LDS)
	$(Q)$(LD) $(HV_LDFLAGS) -o $@ $(HV_OBJS) $(BUILD)/hv/symbols-empty.o
$(BUILD)/hv/symbols.S: $(BUILD)/lamina.0.elf tools/gen-symbols.sh
	$(Q)tools/gen-symbols.sh $< > $@
$(BUILD)/hv/symbols-empty.o: $(BUILD)/hv/symbols-empty.S
	$(Q)$(CC) $(HV_ASFLAGS) -c -o $@ $<
$(BUILD)/hv/symbols.o: $(BUILD)/hv/symbols.S
	$(Q)$(CC) $(HV_ASFLAGS) -c -o $@ $<
$(BUILD)/lamina.elf: $(BUILD)/lamina.0.elf $(BUILD)/hv/symbols.o tools/check-image.sh
	$(Q)$(LD) $(HV_LDFLAGS) -o $@ $(HV_OBJS) $(BUILD)/hv/symbols.o
	$(Q)nm $< | grep -i ' t ' > $@.t0; nm $@ | grep -i ' t ' > $@.t1; \
		cmp -s $@.t0 $@.t1 || { echo "function addresses moved between links"; exit 1; }
	$(Q)tools/check-image.sh $@
	@echo "built $@"

-include $(HV_OBJS:.o=.d)

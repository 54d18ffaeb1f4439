# The x86 instruction decoder/emulator (arch/x86/emulate): part of the
# hypervisor, unit-tested on the host against Zydis and the host CPU, and
# fuzzed with libFuzzer.
EMULATE_SRCS := $(addprefix arch/x86/emulate/,opcodes.c decode.c operand.c \
	flags.c emulate.c string.c bittest.c breakpoints.c)
HV_SRCS += $(EMULATE_SRCS)


X86_REF_SRCS := tests/unit/test_x86_ref.c
$(eval $(call unit_test,test_x86_decode,tests/unit/test_x86_decode.c \
	$(X86_REF_SRCS) $(EMULATE_SRCS),-lZydis))
$(eval $(call unit_test,test_x86_sweep,tests/unit/test_x86_sweep.c \
	$(X86_REF_SRCS) $(EMULATE_SRCS),-lZydis))
X86_FAKE_SRCS := tests/unit/test_x86_fake.c tests/unit/test_x86_host.c
$(eval $(call unit_test,test_x86_emulate,tests/unit/test_x86_emulate.c \
	tests/unit/test_x86_oracle.c $(X86_FAKE_SRCS) $(X86_REF_SRCS) \
	$(EMULATE_SRCS),-lZydis))
$(eval $(call unit_test,test_x86_string,tests/unit/test_x86_string.c \
	$(X86_FAKE_SRCS) $(EMULATE_SRCS)))
$(eval $(call unit_test,test_x86_breakpoints,tests/unit/test_x86_breakpoints.c \
	arch/x86/emulate/breakpoints.c))

# libFuzzer target: `make fuzz-x86` builds it; build/fuzz/fuzz_x86 runs it
# (e.g. -max_total_time=600). `make test` runs it for FUZZ_X86_SECONDS
# through build/unit/test_x86_fuzz.t.
FUZZ_X86 := $(BUILD)/fuzz/fuzz_x86
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Iinclude -Itests/unit
$(FUZZ_X86): tests/fuzz/fuzz_x86.c $(X86_REF_SRCS) $(EMULATE_SRCS)
	@mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $^ -lZydis
fuzz-x86: $(FUZZ_X86)
.PHONY: fuzz-x86

UNIT_TESTS += $(BUILD)/unit/test_x86_fuzz.t
$(BUILD)/unit/test_x86_fuzz.t: $(FUZZ_X86) tests/fuzz/fuzz_x86.sh
	@mkdir -p $(@D)
	$(Q)printf '#!/bin/sh\nexec %s %s\n' $(CURDIR)/tests/fuzz/fuzz_x86.sh \
		$(CURDIR)/$(FUZZ_X86) > $@ && chmod +x $@

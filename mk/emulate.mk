# The x86 instruction decoder/emulator (arch/x86/emulate): part of the
# hypervisor, unit-tested on the host against Zydis and the host CPU.
EMULATE_SRCS := $(addprefix arch/x86/emulate/,opcodes.c decode.c operand.c \
	flags.c emulate.c string.c bittest.c)
HV_SRCS += $(EMULATE_SRCS)

# Fragments are read in name order, so mk/unit.mk (the unit_test macro) has
# not been read yet; reading it twice is harmless.
ifndef unit_test
include mk/unit.mk
endif

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

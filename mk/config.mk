# Toolchain and flags shared by every fragment.
CC := gcc
LD := ld
HOSTCC := gcc
OBJCOPY := objcopy
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

# The hypervisor: freestanding C11, no SSE (guest state lives in those
# registers), no red zone (exceptions and exits land on our stack).
HV_CFLAGS := -std=c11 -ffreestanding -fno-builtin -nostdlib -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) \
	-mno-red-zone -mgeneral-regs-only -mcmodel=kernel -fno-pic -fno-pie \
	-fno-stack-protector -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fno-strict-aliasing -fcf-protection=none -fno-tree-loop-distribute-patterns \
	-O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Iinclude -MMD -MP
HV_ASFLAGS := -Iinclude -MMD -MP -D__ASSEMBLY__ -g

# Host unit tests build the same sources against libc, with sanitizers.
UNIT_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -Iinclude -Itests/unit -DHOST_TEST
UNIT_LIBS := -lcmocka -pthread

ALL_TARGETS :=
UNIT_TESTS :=

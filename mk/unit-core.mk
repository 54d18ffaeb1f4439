# Host unit tests of lamina's pure core logic: memory maps, options, the
# page allocator and heap, the nested page-table builder, formatting, the
# guest loaders, reading the boot loader's information, the walk of the
# guest's page tables and the instruction fetch through it.

$(eval $(call unit_test,test_memmap,tests/unit/test_memmap.c core/memmap.c))
$(eval $(call unit_test,test_options,tests/unit/test_options.c core/options.c \
	core/lib/format.c core/lib/string.c))
$(eval $(call unit_test,test_buddy,tests/unit/test_buddy.c core/mm/buddy.c))
$(eval $(call unit_test,test_heap,tests/unit/test_heap.c core/mm/heap.c \
	core/mm/buddy.c core/lib/string.c))
$(eval $(call unit_test,test_nested_map,tests/unit/test_nested_map.c \
	arch/x86/pagetable.c arch/x86/mtrr.c arch/x86/nested_map.c))
$(eval $(call unit_test,test_format,tests/unit/test_format.c core/lib/format.c))
$(eval $(call unit_test,test_loader,tests/unit/test_loader.c tests/unit/host_phys.c \
	core/loader/loader.c core/loader/linux.c core/loader/multiboot.c core/memmap.c \
	core/lib/format.c core/lib/string.c))
$(eval $(call unit_test,test_guest_mem,tests/unit/test_guest_mem.c tests/unit/host_phys.c \
	core/guest_mem.c core/memmap.c arch/x86/emulate/decode.c arch/x86/emulate/opcodes.c))
$(eval $(call unit_test,test_acpi,tests/unit/test_acpi.c tests/unit/host_phys.c \
	arch/x86/acpi.c core/lib/string.c))
$(eval $(call unit_test,test_bootinfo,tests/unit/test_bootinfo.c tests/unit/host_phys.c \
	arch/x86/boot/multiboot.c core/memmap.c core/lib/format.c core/lib/string.c))
# The MTRR and AMD memory-map MSR writes a guest may make.
$(eval $(call unit_test,test_msr_memcfg,tests/unit/test_msr_memcfg.c \
	core/msr_memcfg.c arch/x86/mtrr.c))
# The rate limit on messages the guest can trigger, against a fake clock.
$(eval $(call unit_test,test_log_limit,tests/unit/test_log_limit.c core/log_limit.c))
# Finding the \_Sx sleep-type packages in AML (core/acpi_sleep.c hides S2/S3).
$(eval $(call unit_test,test_acpi_sleep_aml,tests/unit/test_acpi_sleep_aml.c \
	core/acpi_sleep_aml.c core/lib/string.c))

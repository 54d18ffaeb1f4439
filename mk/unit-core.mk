# Host unit tests of lamina's pure core logic: memory maps, options, the
# page allocator and heap, the nested page-table builder, formatting.
# Fragments are read in name order, so mk/unit.mk (the unit_test macro) has
# not been read yet; reading it twice is harmless.
ifndef unit_test
include mk/unit.mk
endif

$(eval $(call unit_test,test_memmap,tests/unit/test_memmap.c core/memmap.c))
$(eval $(call unit_test,test_options,tests/unit/test_options.c core/options.c \
	core/lib/format.c core/lib/string.c))

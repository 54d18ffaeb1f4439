# make bench: Linux boot-to-/init and the fixed workload, with and without
# lamina on the same emulated machine (QEMU TCG for AMD-V, then Bochs for
# VT-x; bochs_amd adds Bochs's AMD-V: BENCH_PLATFORMS), runs interleaved, medians and ratios,
# and lamina's VM exits during the workload (tests/system/bench.sh). Not
# part of `make test`.
#   make bench BENCH_RUNS=N (pairs, default 5) BENCH_TIMEOUT=S LAMINA_ARGS=...
# (variables on make's command line reach the script through the environment)

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(abspath $(BUILD)) tests/system/bench.sh

.PHONY: bench

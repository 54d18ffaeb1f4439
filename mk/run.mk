# make run: Linux under lamina in QEMU TCG, lamina's log and a busybox
# shell on this terminal (tests/system/run.sh). Ends with `poweroff -f` in
# the shell or Ctrl-A X.
#   make run LAMINA_ARGS="..." LINUX_ARGS="..."   (RUN_MODE=bare: no lamina;
#   variables on make's command line reach the script through the environment)

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(abspath $(BUILD)) tests/system/run.sh

.PHONY: run

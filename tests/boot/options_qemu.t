#!/usr/bin/env bash
# Strict option parsing: unknown keys and malformed values are reported,
# naming the option and the accepted form, and lamina goes on with the
# default (or the good value given before); good values take effect. The
# messages are console-only.
. "$(dirname "$0")/../guest/guest.sh"
need_built "$LAMINA" "$GUEST_DIR/hypercall.elf"
kernel="$GUEST_DIR/hypercall.elf hypercall.elf"
done_re=$(done_marker hypercall)

# Ten bad words (more than lamina once kept), each reported.
bad10="b1=1 b2=1 b3=1 b4=1 b5=1 b6=1 b7=1 b8=1 b9=1 b10=1"
qemu_lamina "$LOG" "$done_re" 60 1 512 "mem=banana foo=bar console=com2 loose $bad10" "$kernel" \
	-serial "file:$WORK/com2.log"
hv=$WORK/com2.log
expect_in "$hv" "option 'mem=banana': expected mem=<size>\\[K\\|M\\|G\\], 8M to 64G .*; using the default" \
	"mem=banana: the message names the option and its form"
expect_in "$hv" "option 'foo=bar': unknown option 'foo'; known options: .*console.*mem" \
	"foo=bar: reported as unknown, with the known options"
expect_in "$hv" "option 'loose': expected key=value" "a word without '=' is reported"
expect_in "$hv" "option 'b10=1': unknown option 'b10'" "the 13th bad word is reported too"
expect_in "$LOG" "^ok .*log read: no option message is in the log" \
	"option messages are console-only: the guest cannot read them"
expect_in "$hv" "lamina's home: .* \\(32 MiB at the top of usable RAM\\)" \
	"after mem=banana lamina uses its default of 32 MiB"
expect_in "$LOG" "$done_re" "the guest still starts after bad options"

qemu_lamina "$LOG" "$done_re" 60 1 512 "mem=64M mem=banana console=com2" "$kernel" \
	-serial "file:$WORK/com2b.log"
expect_in "$WORK/com2b.log" "option 'mem=banana': expected mem=.*; keeping mem=64M" \
	"mem=64M mem=banana: the message names the value kept"
expect_in "$WORK/com2b.log" "lamina's home: .* \\(64 MiB at the top of usable RAM\\)" \
	"mem=64M (then mem=banana) takes 64 MiB"
expect_in "$LOG" "^# meminfo: lamina keeps .* \\(64 MiB\\)" \
	"the guest sees the 64 MiB home through MEMINFO"

# A large home above 4 GiB (QEMU puts 16 GiB of RAM up to 17 GiB): more
# GiBs than lamina's boot page tables held as 2 MiB pages.
qemu_lamina "$LOG" "$done_re" 90 1 16384 "mem=12G console=com2" "$kernel" \
	-serial "file:$WORK/com2c.log"
expect_in "$WORK/com2c.log" "lamina's home: \\[mem 0x0001[0-9a-f]{8}-.* \\(12288 MiB at the top" \
	"mem=12G takes 12 GiB above 4 GiB"
expect_in "$LOG" "$done_re" "the guest runs with a 12 GiB home"

# A command line longer than lamina keeps (2047 bytes) may have lost a
# protecting option: lamina says so and does not start the guest.
long="mem=32M"
for i in $(seq 1 300); do long="$long mem=32M"; done
STAYS='lamina stays up with no guest running'
qemu_lamina "$LOG" "$STAYS" 60 1 512 "$long" "$kernel"
expect_in "$LOG" "lamina's command line is longer than 2047 bytes: the rest is lost" \
	"a command line of ${#long} bytes: lamina says it was cut"
expect_in "$LOG" "cut off \(see above\): the guest does not start" \
	"and does not start the guest"
expect_not_in "$LOG" "$done_re" "the guest did not run"

# console=none: nothing on COM1 from lamina, the guest still runs.
qemu_lamina "$LOG" "$done_re" 60 1 512 "console=none" "$kernel"
expect_not_in "$LOG" '^lamina [0-9]' "console=none: no banner on COM1"
expect_in "$LOG" "$done_re" "console=none: the guest runs"
finish

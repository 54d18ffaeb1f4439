# Debian packages the build and the tests need; `make deps` installs the
# missing ones (make run / make test call it). Fragments add to the list.
DEB_PACKAGES += gcc make binutils libc6-dev qemu-system-x86 \
	bochs bochsbios vgabios bochs-term grub-pc-bin grub-common xorriso mtools \
	busybox-static linux-image-amd64 cpio libcmocka-dev libzydis-dev \
	clang libclang-rt-14-dev

deps:
	@missing=$$(for p in $(sort $(DEB_PACKAGES)); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "Installing missing Debian packages:" $$missing; \
		if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
.PHONY: deps

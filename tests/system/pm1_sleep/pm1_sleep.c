/* pm1_sleep TYP: enters sleep type TYP the way an OS does at its last
 * step, by writing SLP_TYP = TYP with SLP_EN to PM1a_CNT (found in the
 * FADT in sysfs), without ACPI's preparations. Under lamina a write of
 * S2's or S3's type is refused and this returns; bare the machine would
 * sleep. A guest-side helper of the sleep system test. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>

#define FADT_PM1A_CNT 64
#define FADT_X_PM1A_CNT 172 /* GAS: space, width, offset, access size, address */
#define GAS_SPACE_IO 1
#define SLP_TYP_SHIFT 10
#define SLP_EN (1u << 13)

static uint32_t pm1a_port(const unsigned char *fadt, size_t n)
{
	uint32_t port = 0;
	uint64_t x = 0;

	if (n >= FADT_PM1A_CNT + 4)
		memcpy(&port, fadt + FADT_PM1A_CNT, 4);
	if (n >= FADT_X_PM1A_CNT + 12 && fadt[FADT_X_PM1A_CNT] == GAS_SPACE_IO) {
		memcpy(&x, fadt + FADT_X_PM1A_CNT + 4, 8);
		if (x)
			port = (uint32_t)x;
	}
	return port;
}

int main(int argc, char **argv)
{
	unsigned char fadt[512];
	FILE *f = fopen("/sys/firmware/acpi/tables/FACP", "rb");
	size_t n;
	uint32_t port;
	unsigned long typ;
	uint16_t v;

	if (argc != 2 || (typ = strtoul(argv[1], NULL, 0)) > 7) {
		fprintf(stderr, "usage: pm1_sleep SLP_TYP (0-7)\n");
		return 2;
	}
	if (!f) {
		perror("pm1_sleep: /sys/firmware/acpi/tables/FACP");
		return 1;
	}
	n = fread(fadt, 1, sizeof(fadt), f);
	fclose(f);
	port = pm1a_port(fadt, n);
	if (!port || port > 0xfffe || ioperm(port, 2, 1)) {
		fprintf(stderr, "pm1_sleep: no usable PM1a_CNT port (%#x)\n", port);
		return 1;
	}
	v = (uint16_t)((inw(port) & ~(7u << SLP_TYP_SHIFT)) | typ << SLP_TYP_SHIFT | SLP_EN);
	outw(v, port);
	printf("wrote %#x to PM1a_CNT (port %#x) and came back\n", v, port);
	return 0;
}

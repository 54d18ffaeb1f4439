/* void relocate_and_switch(void *dst, const void *src, u64 len, u64 cr3)
 * Copies the running image to its home and loads the tables that map
 * the image's addresses there. Nothing may touch the stack between the
 * copy and the switch, so both happen here, in one go. */
	.text
	.globl relocate_and_switch
relocate_and_switch:
	movq %rcx, %r8
	movq %rdx, %rcx
	cld
	rep movsb
	movq %r8, %cr3
	ret

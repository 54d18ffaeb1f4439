/* Host-side stand-ins for the few platform services that pure hypervisor
 * sources call (logging, panics), so they can be unit-tested in user space. */
#include <stdio.h>

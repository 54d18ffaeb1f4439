#ifndef CORE_VERSION_H
#define CORE_VERSION_H

#include <lamina/hypercall.h>

#define STR_(x) #x
#define STR(x) STR_(x)
#define LAMINA_VERSION_STRING \
	STR(LAMINA_VERSION_MAJOR) "." STR(LAMINA_VERSION_MINOR) "." STR(LAMINA_VERSION_PATCH)

#endif

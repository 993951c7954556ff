#include "lib.h"
#include "lib.h"
main() { printf("%d\n", TWICE(LEVEL)); }
//--- lib.h
#ifndef L
#define L
#define LEVEL 2
#define TWICE(x) ((x) * 2)
#endif

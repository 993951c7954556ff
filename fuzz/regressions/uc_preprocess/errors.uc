#include "lib.h"
main() {}
#if 1
//--- lib.h
int f() { return 1 +; }
#include "gone.h"

#include "a.h"
main() {}
//--- a.h
#include "b.h"
//--- b.h
#include "a.h"

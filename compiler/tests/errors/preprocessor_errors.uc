/* Preprocessor errors: each names what is wrong, with its position. */
#define SQUARE(x) ((x) * (x))
#line 20
#include "not_there.h"
#if 1 +
#endif
#else
#error stop here
int main(void)
{
    return SQUARE(2, 3);
}
#ifdef DEBUG

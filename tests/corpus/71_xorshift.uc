#include <stdio.h>
/* 71_xorshift: Marsaglia's xorshift64 and a 64-bit LCG, printed in hex,
   decimal and octal; unsigned wrap-around multiplication. */

static unsigned long state = 88172645463325252UL;

unsigned long xorshift64(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

int main(void)
{
    unsigned long lcg = 42;
    int i;
    for (i = 0; i < 5; i++)
        printf("%lu\n", xorshift64());
    for (i = 0; i < 4; i++) {
        lcg = lcg * 2862933555777941757UL + 3037000493UL;
        printf("%016lx %22lo %lu\n", lcg, lcg, lcg >> 33);
    }
    return 0;
}

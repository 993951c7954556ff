#include <stdio.h>
/* 74_shifts: left and right shifts of signed and unsigned values:
   arithmetic right shift of negatives, logical for unsigned, shifts by 0
   and 63, and shifts in compound assignment. */

int main(void)
{
    long x = -256;
    unsigned long u = 0x8000000000000000UL;
    long one = 1;
    int i;
    printf("%ld %ld %ld\n", x >> 1, x >> 4, x >> 63);
    printf("%lu %lu %lu\n", u >> 1, u >> 63, u >> 0);
    printf("%lx\n", (unsigned long) x >> 4);
    printf("%ld\n", one << 62);
    printf("%ld\n", (long) (1UL << 63));
    for (i = 0; i < 64; i += 9)
        printf("1<<%d = %lx\n", i, 1UL << i);
    x = 5;
    x <<= 3;
    x >>= 1;
    u >>= 60;
    u <<= 2;
    printf("%ld %lu\n", x, u);
    printf("%d %d\n", -1 >> 10, 12345 << 2 >> 2);
    return 0;
}

#include <stdio.h>
/* 75_unsigned_wrap: unsigned long arithmetic wraps modulo 2^64; unsigned
   comparison; mixing signed and unsigned converts to unsigned (C's usual
   arithmetic conversions). */

int main(void)
{
    unsigned long zero = 0, max = 18446744073709551615UL;
    unsigned long a = 3, b = 5;
    long neg = -1;
    printf("%lu %lu\n", zero - 1, max + 1);
    printf("%lu %lu\n", a - b, b - a);
    printf("%lu\n", max * max);
    printf("%d %d\n", a - b > 0, (long) (a - b) > 0);
    printf("%d\n", neg < a);
    printf("%d\n", neg < (long) a);
    printf("%lu\n", neg + a);
    printf("%lu\n", (unsigned long) neg);
    printf("%d\n", max == (unsigned long) -1);
    printf("%lx %lo\n", max, max);
    printf("%lu\n", -a);
    printf("%lu\n", ~zero);
    return 0;
}

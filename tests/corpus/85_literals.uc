#include <stdio.h>
/* 85_literals: hexadecimal and octal literals, L LL U UL ULL suffixes,
   and their values and types. */

int main(void)
{
    long a = 0x7fffffffffffffffL, b = 0777, c = 0x10, d = 010;
    unsigned long e = 0xffffffffffffffffUL;
    printf("%ld %ld %ld %ld\n", a, b, c, d);
    printf("%lu\n", e);
    printf("%ld %ld %lu %lu %lu\n", 5L, 5LL, 5UL, 5ULL, 5LU);
    printf("%lx %lo\n", 0xDEADBEEFL, 01234567L);
    printf("%d %d\n", 0x1F, 017);
    printf("%ld\n", 0L);
    printf("%d\n", 00);
    printf("%lu\n", 10UL - 20UL);
    printf("%ld\n", 0xABCDEFL * 0x10);
    return 0;
}

#include <stdio.h>
/* 86_bitwise: & | ^ ~ and their compound assignments, precedence against
   comparisons, masks and bit tricks (power of two, lowest set bit, swap
   by xor). */

int is_pow2(long x)
{
    return x > 0 && (x & (x - 1)) == 0;
}

int main(void)
{
    long a = 0x5A, b = 0x3C, x, y;
    int i;
    printf("%lx %lx %lx %lx\n", a & b, a | b, a ^ b, ~a);
    printf("%d\n", (a & 0xF) == 0xA);
    printf("%ld\n", a & 0xF == 0xA);
    x = 0xFF;
    x &= 0x0F;
    x |= 0x100;
    x ^= 0x5;
    printf("%lx\n", x);
    for (i = 0; i <= 16; i++)
        if (is_pow2(i))
            printf("%d ", i);
    printf("\n");
    x = 40;
    printf("lowest set bit of 40: %ld\n", x & -x);
    x = 12;
    y = 34;
    x ^= y;
    y ^= x;
    x ^= y;
    printf("%ld %ld\n", x, y);
    printf("%d %d %d\n", ~0, ~-1, -~5);
    printf("%d\n", 6 & 3 | 8 ^ 1);
    return 0;
}

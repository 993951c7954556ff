#include <stdio.h>
/* 76_long_overflow: 64-bit limits (LONG_MAX, LONG_MIN), factorials up to
   the largest that fits, and overflow detected with unsigned arithmetic
   before it happens. */
#define LMAX 9223372036854775807L
#define LMIN (-LMAX - 1)

int main(void)
{
    long f = 1;
    unsigned long uf = 1;
    int n;
    printf("%ld %ld\n", LMAX, LMIN);
    printf("%ld %ld\n", LMAX / -1, LMIN + 1);
    for (n = 1; n <= 25; n++) {
        if (f > LMAX / n) {
            printf("%d! overflows a long\n", n);
            break;
        }
        f *= n;
        printf("%2d! = %ld\n", n, f);
    }
    for (n = 1; n <= 25; n++)
        uf *= n;
    printf("25! mod 2^64 = %lu\n", uf);
    printf("%lu\n", (unsigned long) LMAX + 1);
    printf("%ld\n", (long) ((unsigned long) LMAX + 2));
    return 0;
}

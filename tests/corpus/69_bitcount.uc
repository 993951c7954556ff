#include <stdio.h>
/* 69_bitcount: the bit-counting benchmark: four ways to count set bits,
   which must agree, over a pseudo-random sequence. */

int count_loop(unsigned long x)
{
    int n = 0;
    while (x) {
        n += x & 1;
        x >>= 1;
    }
    return n;
}

int count_kernighan(unsigned long x)
{
    int n = 0;
    for (; x; n++)
        x &= x - 1;
    return n;
}

int count_parallel(unsigned long x)
{
    x = x - ((x >> 1) & 0x5555555555555555UL);
    x = (x & 0x3333333333333333UL) + ((x >> 2) & 0x3333333333333333UL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FUL;
    return (int) ((x * 0x0101010101010101UL) >> 56);
}

int count_nibbles(unsigned long x)
{
    static const int bits[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};
    int n = 0;
    do {
        n += bits[x & 0xF];
        x >>= 4;
    } while (x != 0);
    return n;
}

int main(void)
{
    unsigned long x = 1;
    long total = 0;
    int i, bad = 0;
    for (i = 0; i < 2000; i++) {
        int a = count_loop(x), b = count_kernighan(x);
        int c = count_parallel(x), d = count_nibbles(x);
        if (a != b || b != c || c != d)
            bad++;
        total += a;
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    }
    printf("total bits %ld, disagreements %d\n", total, bad);
    printf("%d %d %d\n", count_parallel(0UL), count_parallel(~0UL), count_parallel(0x8000000000000001UL));
    return 0;
}

#include <stdio.h>
/* 100_queens_bits: N-queens solution counts with bitmasks for columns and
   diagonals, n = 1..10. */

long solve(unsigned long cols, unsigned long d1, unsigned long d2, unsigned long full)
{
    unsigned long avail, bit;
    long count = 0;
    if (cols == full)
        return 1;
    avail = ~(cols | d1 | d2) & full;
    while (avail) {
        bit = avail & -avail;
        avail ^= bit;
        count += solve(cols | bit, ((d1 | bit) << 1) & full, (d2 | bit) >> 1, full);
    }
    return count;
}

int main(void)
{
    int n;
    for (n = 1; n <= 10; n++)
        printf("%2d queens: %ld\n", n, solve(0, 0, 0, (1UL << n) - 1));
    return 0;
}

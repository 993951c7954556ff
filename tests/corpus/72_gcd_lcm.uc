#include <stdio.h>
/* 72_gcd_lcm: Euclid's algorithm (recursive and iterative), the binary
   GCD with shifts, and LCMs of 1..n in long arithmetic. */

long gcd_rec(long a, long b)
{
    return b == 0 ? a : gcd_rec(b, a % b);
}

long gcd_bin(long a, long b)
{
    int shift = 0;
    long t;
    if (a == 0) return b;
    if (b == 0) return a;
    while (((a | b) & 1) == 0) {
        a >>= 1;
        b >>= 1;
        shift++;
    }
    while ((a & 1) == 0)
        a >>= 1;
    do {
        while ((b & 1) == 0)
            b >>= 1;
        if (a > b) {
            t = a;
            a = b;
            b = t;
        }
        b -= a;
    } while (b != 0);
    return a << shift;
}

int main(void)
{
    long pairs[8] = {48, 18, 1071, 462, 270, 192, 17, 5};
    long l = 1;
    int i;
    for (i = 0; i < 8; i += 2)
        printf("gcd(%ld, %ld) = %ld = %ld\n", pairs[i], pairs[i + 1],
               gcd_rec(pairs[i], pairs[i + 1]), gcd_bin(pairs[i], pairs[i + 1]));
    for (i = 1; i <= 40; i++) {
        l = l / gcd_rec(l, i) * i;
        if (i % 10 == 0)
            printf("lcm(1..%d) = %ld\n", i, l);
    }
    return 0;
}

#include <stdio.h>
/* 98_primes_trial: trial division, Euler's totient, and modular
   exponentiation with unsigned arithmetic (a Miller-Rabin base check). */

unsigned long mulmod(unsigned long a, unsigned long b, unsigned long m)
{
    unsigned long r = 0;
    a %= m;
    while (b) {
        if (b & 1)
            r = (r + a) % m;
        a = (a << 1) % m;
        b >>= 1;
    }
    return r;
}

unsigned long powmod(unsigned long b, unsigned long e, unsigned long m)
{
    unsigned long r = 1;
    b %= m;
    while (e) {
        if (e & 1)
            r = mulmod(r, b, m);
        b = mulmod(b, b, m);
        e >>= 1;
    }
    return r;
}

long phi(long n)
{
    long r = n, p;
    for (p = 2; p * p <= n; p++)
        if (n % p == 0) {
            while (n % p == 0)
                n /= p;
            r -= r / p;
        }
    if (n > 1)
        r -= r / n;
    return r;
}

int main(void)
{
    long n;
    for (n = 1; n <= 12; n++)
        printf("phi(%ld)=%ld%c", n, phi(n), n % 6 ? ' ' : '\n');
    printf("%lu\n", powmod(2, 1000000, 1000000007));
    printf("%lu\n", powmod(3, 1000000006, 1000000007));
    printf("%lu\n", powmod(2, 4294967295UL, 4294967291UL));
    return 0;
}

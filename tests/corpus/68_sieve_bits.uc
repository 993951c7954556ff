#include <stdio.h>
/* 68_sieve_bits: a sieve of Eratosthenes over a bit array held in unsigned
   longs (shifts, masks, |= and &=), counting primes below powers of ten. */
#define LIMIT 100000
#define WORDS (LIMIT / 64 + 1)

static unsigned long composite[WORDS];

int is_set(long i)
{
    return (composite[i >> 6] >> (i & 63)) & 1;
}

void set(long i)
{
    composite[i >> 6] |= 1UL << (i & 63);
}

int main(void)
{
    long i, j, count = 0, next = 10;
    for (i = 2; i * i < LIMIT; i++)
        if (!is_set(i))
            for (j = i * i; j < LIMIT; j += i)
                set(j);
    for (i = 2; i < LIMIT; i++) {
        if (i == next) {
            printf("primes below %6ld: %ld\n", next, count);
            next *= 10;
        }
        if (!is_set(i))
            count++;
    }
    printf("primes below %6d: %ld\n", LIMIT, count);
    composite[0] &= ~0UL << 8;
    printf("word 0 now %016lx\n", composite[0]);
    return 0;
}

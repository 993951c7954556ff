/* 50_sieve: the sieve of Eratosthenes over a global array; counts and
   lists primes, and the twin primes below 200. */
int composite[8001];

main()
{
    int i, j, count = 0, twins = 0, last = 0;
    composite[0] = 1;
    composite[1] = 1;
    for (i = 2; i * i < len(composite); i++)
        if (!composite[i])
            for (j = i * i; j < len(composite); j += i)
                composite[j] = 1;
    for (i = 0; i < len(composite); i++)
        if (!composite[i]) {
            count++;
            last = i;
        }
    printf("primes up to 8000: %d, largest %d\n", count, last);
    for (i = 0; i < 60; i++)
        if (!composite[i])
            printf("%d ", i);
    printf("\n");
    for (i = 3; i + 2 < 200; i += 2)
        if (!composite[i] && !composite[i + 2]) {
            twins++;
            printf("(%d,%d) ", i, i + 2);
        }
    printf("\ntwin pairs below 200: %d\n", twins);
}

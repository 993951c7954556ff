/* 22_static_arrays: static arrays in procedures persist across calls, can
   have brace initializers (the rest zero), and can be passed as arrays. */
long sum(long a[])
{
    long i, s = 0;
    for (i = 0; i < len(a); i++)
        s += a[i];
    return s;
}

void record(long v)
{
    static long hist[5];
    static long n;
    long i;
    hist[n % len(hist)] = v;
    n++;
    printf("hist:");
    for (i = 0; i < len(hist); i++)
        printf(" %ld", hist[i]);
    printf(" (sum %ld)\n", sum(hist));
}

long fib_memo(long n)
{
    static long memo[50] = {0, 1, 1};
    if (n < 3)
        return memo[n];
    if (memo[n] == 0)
        memo[n] = fib_memo(n - 1) + fib_memo(n - 2);
    return memo[n];
}

double weight(long i)
{
    static double w[4] = {0.5, 1.5, 2, -1.0 / 4};
    return w[i];
}

main()
{
    long i;
    for (i = 1; i <= 7; i++)
        record(i * i);
    printf("fib(40) = %ld\n", fib_memo(40));
    printf("fib(49) = %ld\n", fib_memo(49));
    for (i = 0; i < 4; i++)
        printf("%f ", weight(i));
    printf("\n");
}

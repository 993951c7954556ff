/* 22_static_arrays: static arrays in procedures persist across calls, can
   have brace initializers (the rest zero), and can be passed as arrays. */
int sum(int a[])
{
    int i, s = 0;
    for (i = 0; i < len(a); i++)
        s += a[i];
    return s;
}

void record(int v)
{
    static int hist[5];
    static int n;
    int i;
    hist[n % len(hist)] = v;
    n++;
    printf("hist:");
    for (i = 0; i < len(hist); i++)
        printf(" %d", hist[i]);
    printf(" (sum %d)\n", sum(hist));
}

int fib_memo(int n)
{
    static int memo[50] = {0, 1, 1};
    if (n < 3)
        return memo[n];
    if (memo[n] == 0)
        memo[n] = fib_memo(n - 1) + fib_memo(n - 2);
    return memo[n];
}

double weight(int i)
{
    static double w[4] = {0.5, 1.5, 2, -1.0 / 4};
    return w[i];
}

main()
{
    int i;
    for (i = 1; i <= 7; i++)
        record(i * i);
    printf("fib(40) = %d\n", fib_memo(40));
    printf("fib(49) = %d\n", fib_memo(49));
    for (i = 0; i < 4; i++)
        printf("%f ", weight(i));
    printf("\n");
}

/* 06_casts: (long) truncates toward zero, (double) converts; casts bind
   tighter than binary operators. */
main()
{
    double a = 3.99, b = -3.99;
    long n = 7, m = 2;
    printf("%ld %ld\n", (long) a, (long) b);
    printf("%ld %ld\n", (long) 0.5, (long) -0.5);
    printf("%ld\n", (long) 2.0);
    printf("%ld\n", (long) (a * 10));
    printf("%ld\n", (long) a * 10);
    printf("%f\n", (double) n / m);
    printf("%f\n", (double) (n / m));
    printf("%ld\n", (long) (1e15 + 0.75));
    printf("%ld\n", (long) -123456.999);
    printf("%f\n", (double) -5);
    printf("%ld\n", (long) (double) 42);
    n = (long) (a + b + 10.5);
    printf("%ld\n", n);
    printf("%ld\n", (long) 9.0e18);
    printf("%ld\n", (long) ((double) 1 / 3 * 300));
}

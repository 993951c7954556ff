/* 06_casts: (int) truncates toward zero, (double) converts; casts bind
   tighter than binary operators. */
main()
{
    double a = 3.99, b = -3.99;
    int n = 7, m = 2;
    printf("%d %d\n", (int) a, (int) b);
    printf("%d %d\n", (int) 0.5, (int) -0.5);
    printf("%d\n", (int) 2.0);
    printf("%d\n", (int) (a * 10));
    printf("%d\n", (int) a * 10);
    printf("%f\n", (double) n / m);
    printf("%f\n", (double) (n / m));
    printf("%d\n", (int) (1e15 + 0.75));
    printf("%d\n", (int) -123456.999);
    printf("%f\n", (double) -5);
    printf("%d\n", (int) (double) 42);
    n = (int) (a + b + 10.5);
    printf("%d\n", n);
    printf("%d\n", (int) 9.0e18);
    printf("%d\n", (int) ((double) 1 / 3 * 300));
}

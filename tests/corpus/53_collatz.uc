/* 53_collatz: Collatz sequence lengths; the longest below 10000. */
int steps(int n)
{
    int s = 0;
    while (n != 1) {
        if (n % 2 == 0)
            n /= 2;
        else
            n = 3 * n + 1;
        s++;
    }
    return s;
}

main()
{
    int n, best = 1, best_steps = 0, s;
    n = 27;
    printf("27:");
    while (n != 1 && n < 100) {
        printf(" %d", n);
        if (n % 2) n = 3 * n + 1; else n = n / 2;
    }
    printf(" ...\n");
    printf("steps(27) = %d\n", steps(27));
    for (n = 1; n < 10000; n++) {
        s = steps(n);
        if (s > best_steps) {
            best_steps = s;
            best = n;
        }
    }
    printf("longest below 10000: %d with %d steps\n", best, best_steps);
}

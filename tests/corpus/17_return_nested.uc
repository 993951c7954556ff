/* 17_return_nested: return from inside nested loops, returns in every branch,
   early returns from void procedures. */
int find_pair(int target)
{
    int i, j;
    for (i = 1; i < 10; i++) {
        j = 1;
        while (j < 10) {
            if (i * j == target)
                return i * 100 + j;
            j++;
        }
    }
    return -1;
}

int sign(int x)
{
    if (x < 0)
        return -1;
    else if (x > 0)
        return 1;
    return 0;
}

void report(int x)
{
    if (x < 0) {
        printf("negative, nothing more\n");
        return;
    }
    printf("value %d", x);
    for (;;) {
        if (x > 10) {
            printf(" (big)\n");
            return;
        }
        printf(" (small)\n");
        return;
    }
}

double first_above(double limit)
{
    double x = 1.0;
    while (1) {
        x *= 1.5;
        if (x > limit)
            return x;
    }
}

main()
{
    printf("%d\n", find_pair(12));
    printf("%d\n", find_pair(63));
    printf("%d\n", find_pair(97));
    printf("%d %d %d\n", sign(-8), sign(0), sign(8));
    report(-1);
    report(5);
    report(50);
    printf("%f\n", first_above(10.0));
}

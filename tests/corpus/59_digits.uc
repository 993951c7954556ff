/* 59_digits: digit manipulation: reverse, digit sum, palindromes, printing
   in another base by recursion, Armstrong numbers. */
int reverse(int n)
{
    int r = 0;
    while (n > 0) {
        r = r * 10 + n % 10;
        n /= 10;
    }
    return r;
}

int digit_sum(int n)
{
    if (n < 0)
        n = -n;
    if (n < 10)
        return n;
    return n % 10 + digit_sum(n / 10);
}

void print_base(int n, int base)
{
    if (n >= base)
        print_base(n / base, base);
    printf("%d", n % base);
}

int ipow(int b, int e)
{
    int r = 1;
    while (e-- > 0)
        r *= b;
    return r;
}

main()
{
    int i, count = 0, d, t, s;
    printf("%d %d %d\n", reverse(12345), reverse(1200), reverse(7));
    printf("%d %d\n", digit_sum(9875), digit_sum(-456));
    printf("palindromes 100..200:");
    for (i = 100; i <= 200; i++)
        if (reverse(i) == i) {
            printf(" %d", i);
            count++;
        }
    printf(" (%d)\n", count);
    print_base(255, 2);
    printf(" ");
    print_base(255, 8);
    printf(" ");
    print_base(1000000, 7);
    printf("\n");
    printf("armstrong:");
    for (i = 1; i < 10000; i++) {
        d = 0;
        t = i;
        while (t > 0) {
            d++;
            t /= 10;
        }
        s = 0;
        t = i;
        while (t > 0) {
            s += ipow(t % 10, d);
            t /= 10;
        }
        if (s == i)
            printf(" %d", i);
    }
    printf("\n");
}

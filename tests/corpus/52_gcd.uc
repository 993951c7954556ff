/* 52_gcd: Euclid's gcd, recursive and iterative (with negative inputs),
   lcm, and a reduced fraction sum. */
int gcd_rec(int a, int b)
{
    if (b == 0)
        return a;
    return gcd_rec(b, a % b);
}

int gcd(int a, int b)
{
    int t;
    if (a < 0) a = -a;
    if (b < 0) b = -b;
    while (b != 0) {
        t = a % b;
        a = b;
        b = t;
    }
    return a;
}

int lcm(int a, int b)
{
    return a / gcd(a, b) * b;
}

main()
{
    int i, num = 0, den = 1, g;
    printf("%d %d %d\n", gcd_rec(48, 18), gcd_rec(17, 5), gcd_rec(0, 9));
    printf("%d %d\n", gcd(-48, 36), gcd(1071, -462));
    printf("%d\n", gcd(2971215073, 1836311903));
    printf("%d\n", lcm(4, 6));
    g = 1;
    for (i = 1; i <= 20; i++)
        g = lcm(g, i);
    printf("lcm(1..20) = %d\n", g);
    /* 1/1 + 1/2 + ... + 1/10 as a reduced fraction */
    for (i = 1; i <= 10; i++) {
        num = num * i + den;
        den = den * i;
        g = gcd(num, den);
        num /= g;
        den /= g;
    }
    printf("H(10) = %d/%d\n", num, den);
}

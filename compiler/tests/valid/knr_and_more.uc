/* A tour of the language: K&R and ANSI forms, arrays, statics, globals,
 * every statement and operator, and the builtins. */

int counter = 3;
double weights[4] = {0.5, 1.5};
int primes[5] = {2, 3, 5, 7, 11};
int big = -(1 + 0) + 10 * 2 % 7;
double ratio = (double) 7 / 2;

/* K&R with a double and an array parameter; b is declared, a defaults to int. */
scale(a, b, v)
double b;
int v[];
{
    int i;
    for (i = 0; i < len(v); i++)
        v[i] = (int) (v[i] * b) + a;
    return;
}

double average(double xs[], int n)
{
    double sum = 0;
    int i = 0;
    while (i < n) {
        sum += xs[i];
        i++;
    }
    if (n == 0)
        return 0;
    return sum / n;
}

int fact(int n) { if (n <= 1) return 1; else return n * fact(n - 1); }

is_even(n) { if (n == 0) return 1; return is_odd(n - 1); }
is_odd(n) { if (n == 0) return 0; return is_even(n - 1); }

void shadowing()
{
    static int x = 1;
    int y = x;
    {
        static int x = 10;
        int y = 2;
        x += y;
        printf("inner x=%d y=%d\n", x, y);
    }
    x++;
    printf("outer x=%d y=%d\n", x, y);
}

void loops(void)
{
    int i, j = 0;
    int grid[16];
    for (;;) {
        j++;
        if (j > 3) break;
    }
    for (int k = 0; k < 16; ++k) {
        if (k % 2) continue;
        grid[k] = k * k;
    }
    for (i = 0; i < 4; i = i + 1)
        if (i == 1)
            if (j) printf("dangling %d\n", i);
            else printf("never\n");
    i = j = 7;
    i -= 1; i *= 2; i /= 3; i %= 5;
    j = -i + !i - (i && j) + (i || 0) + (i != j) + (i >= j) + (i <= j) + (i > j) + (i < j);
    printf("%5d|%-4i|%c|%%|%s\n", i, j, 'A', "str");
}

main()
{
    int v[3] = {1, 2, 3};
    double d[3] = {1, 2.5};
    double t = now_ms();
    scale(1, 2, v);
    printf("%d %d %d\n", v[0], v[1], v[2]);
    printf("%.2f %e %g %lf %8.3lf\n", average(d, 3), ratio, weights[1], d[1], t - t);
    printf("fact %d even %d\n", fact(10), is_even(10));
    shadowing();
    shadowing();
    loops();
    counter += big + primes[4];
    printf("counter %d\n", counter);
    sleep_ms(0);
    if (counter < 0) exit(3);
    while (0.5) break;
}

/* 30_fall_off_end: a non-void procedure that falls off its end returns 0
   (0.0 for double), as K&R code relies on. */
int g;

set_g(v)
int v;
{
    g = v;
}

int maybe(int x)
{
    if (x > 0)
        return x * 2;
}

double dmaybe(double x)
{
    if (x > 1.0)
        return x;
}

int loop_then_fall(int n)
{
    int i;
    for (i = 0; i < n; i++)
        if (i == 3)
            return 100 + i;
}

main()
{
    printf("%d\n", set_g(5));
    printf("g = %d\n", g);
    printf("%d %d\n", maybe(4), maybe(-4));
    printf("%f %f\n", dmaybe(2.5), dmaybe(0.5));
    printf("%d %d\n", loop_then_fall(10), loop_then_fall(2));
    printf("%d\n", maybe(-1) + set_g(1) + 7);
}

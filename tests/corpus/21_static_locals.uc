/* 21_static_locals: static locals keep their value across calls, are
   initialized once from a constant expression, and are private to their
   procedure even when two procedures use the same name. */
int next_id()
{
    static int id = 1000;
    id++;
    return id;
}

int other()
{
    static int id;          /* zero, a different variable from next_id's */
    id += 10;
    return id;
}

double running_mean(double v)
{
    static double sum = 0.0;
    static int n = 0;
    sum += v;
    n++;
    return sum / n;
}

void ticker()
{
    static int calls = 2 * 3 + 1;
    int local = 0;
    calls++;
    local++;
    printf("ticker: calls = %d, local = %d\n", calls, local);
}

main()
{
    int i;
    for (i = 0; i < 3; i++)
        printf("%d\n", next_id());
    i = other();
    printf("%d %d\n", i, other());
    printf("%d\n", next_id());
    printf("%f\n", running_mean(1.0));
    printf("%f\n", running_mean(2.0));
    printf("%f\n", running_mean(6.0));
    ticker();
    ticker();
    ticker();
}

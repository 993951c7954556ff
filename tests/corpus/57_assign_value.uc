/* 57_assign_value: an assignment is an expression whose value is the stored
   value: chained assignment, assignment inside a condition, compound
   assignment and ++ used as values, int stored into double yields double. */
int next(int limit)
{
    static int v;
    v++;
    if (v > limit)
        return 0;
    return v;
}

main()
{
    int a, b, c, n;
    double d;
    a = b = c = 7;
    printf("%d %d %d\n", a, b, c);
    a = (b = 2) + (c = 3);
    printf("%d %d %d\n", a, b, c);
    while ((n = next(4)) != 0)
        printf("n = %d\n", n);
    a = 10;
    b = (a += 5) * 2;
    printf("%d %d\n", a, b);
    d = a = 3;
    printf("%f %d\n", d, a);
    d = 0.5;
    printf("%f\n", d = 8);
    printf("%d\n", (a = 4) == 4);
}

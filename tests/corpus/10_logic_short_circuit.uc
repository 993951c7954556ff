/* 10_logic_short_circuit: && || ! yield 0/1 and short-circuit; the side
   effects of the calls show which operands were evaluated. */
int calls;

int t(int id)
{
    calls++;
    printf("t%d ", id);
    return 1;
}

int f(int id)
{
    calls++;
    printf("f%d ", id);
    return 0;
}

int v(int id, int value)
{
    printf("v%d ", id);
    return value;
}

main()
{
    int r;
    r = f(1) && t(2);
    printf("-> %d\n", r);
    r = t(1) && t(2);
    printf("-> %d\n", r);
    r = t(1) && f(2);
    printf("-> %d\n", r);
    r = t(1) || t(2);
    printf("-> %d\n", r);
    r = f(1) || t(2);
    printf("-> %d\n", r);
    r = f(1) || f(2);
    printf("-> %d\n", r);
    r = f(1) && t(2) || t(3);
    printf("-> %d\n", r);
    r = t(1) || f(2) && f(3);
    printf("-> %d\n", r);
    r = (t(1) || f(2)) && f(3);
    printf("-> %d\n", r);
    r = v(1, 42) && v(2, -7);
    printf("-> %d\n", r);
    r = v(1, 0) || v(2, 5);
    printf("-> %d\n", r);
    printf("%d %d %d %d\n", !0, !1, !42, !-3);
    printf("%d %d\n", !!17, !!0);
    printf("%d %d\n", !0.0, !2.5);
    r = !f(1) && !f(2);
    printf("-> %d\n", r);
    printf("calls = %d\n", calls);
    if (calls > 5 && calls < 100)
        printf("in range\n");
    if (!(calls == 0) || f(9))
        printf("skipped f9\n");
}

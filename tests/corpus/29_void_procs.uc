/* 29_void_procs: void procedures as statements, with and without
   parameters, with early `return;`, changing globals and array arguments. */
int total;

void add(int v)
{
    total += v;
}

void greet()
{
    printf("hello from greet\n");
}

void clamp_all(int a[], int lo, int hi)
{
    int i;
    for (i = 0; i < len(a); i++) {
        if (a[i] < lo)
            a[i] = lo;
        if (a[i] > hi)
            a[i] = hi;
    }
}

void maybe_print(int v)
{
    if (v < 0)
        return;
    printf("v = %d\n", v);
    return;
}

void nothing()
{
}

main()
{
    int a[5], i;
    greet();
    add(5);
    add(-2);
    add(10);
    printf("total = %d\n", total);
    for (i = 0; i < len(a); i++)
        a[i] = i * 10 - 15;
    clamp_all(a, -10, 20);
    for (i = 0; i < len(a); i++)
        printf("%d ", a[i]);
    printf("\n");
    maybe_print(-1);
    maybe_print(3);
    nothing();
    printf("done\n");
}

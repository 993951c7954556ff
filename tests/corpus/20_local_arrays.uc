/* 20_local_arrays: local int and double arrays start zeroed (on every call),
   len() gives their element count, elements are read and written by
   computed indexes. */
void fresh(int round)
{
    int a[4];
    double d[3];
    int i, sum = 0;
    double dsum = 0.0;
    for (i = 0; i < len(a); i++)
        sum += a[i];
    for (i = 0; i < len(d); i++)
        dsum += d[i];
    printf("round %d: sums %d %f\n", round, sum, dsum);
    for (i = 0; i < len(a); i++)
        a[i] = 100 + i;     /* must not leak into the next call */
    d[2] = 9.5;
}

main()
{
    int sq[10];
    int i;
    double h[5];
    printf("len(sq) = %d, len(h) = %d\n", len(sq), len(h));
    for (i = 0; i < len(sq); i++)
        sq[i] = i * i;
    for (i = len(sq) - 1; i >= 0; i--)
        printf("%d ", sq[i]);
    printf("\n");
    printf("%d\n", sq[sq[3]]);
    printf("%d\n", sq[2 * 4 - 1]);
    for (i = 0; i < len(h); i++)
        h[i] = 1.0 / (i + 1);
    printf("%f %f %f\n", h[0], h[1], h[4]);
    fresh(1);
    fresh(2);
    {
        int big[1000];
        big[999] = 7;
        printf("%d %d %d\n", big[0], big[999], len(big));
    }
}

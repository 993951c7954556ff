double sum(double xs[], int n) { return xs[0] * n; }

main()
{
    int ints[4];
    double ds[4];
    int n = 4;
    sum(ints, n);
    sum(n, n);
    sum(ds, ds);
}

main()
{
    int x = 1;
    int a[4];
    double d = 1.0;
    x[0] = 1;
    a[d] = 2;
}

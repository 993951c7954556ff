main()
{
    int n = 3;
    double w = 0.75;
    printf("%f lb\n", n);
    printf("pizza %d\n", w);
    printf("%.2lf and %5d\n", w, n);
}

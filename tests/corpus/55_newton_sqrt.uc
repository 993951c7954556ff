/* 55_newton_sqrt: square roots by Newton's method with doubles, a cube
   root, and pi from a series; iteration counts shown. */
double abs_d(double x)
{
    if (x < 0)
        return -x;
    return x;
}

double my_sqrt(double x)
{
    double g = x / 2, prev = 0;
    int iters = 0;
    if (x == 0)
        return 0;
    while (abs_d(g - prev) > 1e-12) {
        prev = g;
        g = (g + x / g) / 2;
        iters++;
    }
    printf("  (sqrt(%g) took %d iterations)\n", x, iters);
    return g;
}

double cbrt_newton(double x)
{
    double g = 1.0;
    int i;
    for (i = 0; i < 60; i++)
        g = g - (g * g * g - x) / (3 * g * g);
    return g;
}

main()
{
    int i;
    double s, term;
    printf("%.10f\n", my_sqrt(2));
    printf("%.10f\n", my_sqrt(144.0));
    printf("%.6e\n", my_sqrt(1e10));
    printf("%.10f\n", my_sqrt(0.25));
    printf("%f\n", my_sqrt(0));
    printf("%.10f\n", cbrt_newton(27));
    s = 0;
    for (i = 0; i < 100000; i++) {
        term = 4.0 / (2 * i + 1);
        if (i % 2)
            s -= term;
        else
            s += term;
    }
    printf("pi ~ %.8f\n", s);
}

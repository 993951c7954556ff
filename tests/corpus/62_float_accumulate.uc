/* 62_float_accumulate: binary64 rounding is visible: 0.1 added ten times is
   not 1.0; compensated (Kahan) summation; exact halving. */
main()
{
    int i;
    double s = 0, k = 0, c = 0, y, t, h = 1;
    for (i = 0; i < 10; i++)
        s += 0.1;
    printf("%d %.17g\n", s == 1.0, s);
    for (i = 0; i < 1000000; i++) {
        y = 0.1 - c;
        t = k + y;
        c = (t - k) - y;
        k = t;
    }
    printf("kahan sum %.10f\n", k);
    for (i = 0; i < 60; i++)
        h /= 2;
    printf("%e %d\n", h, h * 1152921504606846976.0 == 1.0);
    printf("%.17g\n", 1.0 / 3.0);
    printf("%.17g\n", 2.0 / 3.0 * 3.0);
}

/* 09_double_literals: the spellings of double literals: digits with a point,
   a leading or trailing point, exponents with either letter case and sign. */
main()
{
    printf("%f\n", 1.25);
    printf("%f\n", .5);
    printf("%f\n", 5.);
    printf("%f\n", 1e3);
    printf("%f\n", 1E3);
    printf("%f\n", 2.5e-1);
    printf("%f\n", 2.5E+2);
    printf("%f\n", 1.e2);
    printf("%f\n", 0.000);
    printf("%f\n", 123456789.125);
    printf("%d\n", 0);
}

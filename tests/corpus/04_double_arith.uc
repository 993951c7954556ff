/* 04_double_arith: double literals (with exponents), + - * /, unary minus,
   IEEE infinities. */
main()
{
    double x = 1.5, y = 0.25, z;
    z = x * y + x / y - 2.0;
    printf("%f\n", z);
    printf("%f %f %f %f\n", x + y, x - y, x * y, x / y);
    printf("%f\n", -x);
    printf("%f\n", - -x);
    printf("%f\n", 1.0 / 3.0);
    printf("%.10f\n", 2.0 / 3.0);
    printf("%f\n", 1e3 + 2.5e-1);
    printf("%f\n", 12.5e2);
    printf("%e\n", 6.02214076e23);
    printf("%f\n", 0.1 + 0.2);
    printf("%.17g\n", 0.1 + 0.2);
    printf("%f\n", 1.0 / 0.0);
    printf("%f\n", -1.0 / 0.0);
    printf("%f\n", 1e308 * 10.0);
    z = 10.0;
    z = z / 4.0;
    printf("%f\n", z);
    printf("%f\n", 0.0 - 0.0);
    printf("%f\n", -0.0);
    printf("%g\n", 2.0 * 2.0 * 2.0 * 2.0);
}

/* 32_printf_doubles: %f %lf %.Nf %e %g with widths, precisions and flags,
   rounding, large and small numbers. */
main()
{
    double x = 3.14159265358979, big = 123456.789, small = 0.000123456;
    printf("%f|%lf|%.2f|%.2lf|%.0f\n", x, x, x, x, x);
    printf("[%8.3f] [%-8.3f] [%08.3f] [%+.1f]\n", x, x, x, x);
    printf("[%10.4lf] [%-10.1lf]\n", -x, -x);
    printf("%.0f %.0f %.0f %.0f\n", 0.5, 1.5, 2.5, -0.5);
    printf("%.1f %.2f %.3f\n", 0.05, 0.125, 1.0005);
    printf("%f\n", big);
    printf("%f\n", 1e20);
    printf("%f\n", small);
    printf("%e\n", big);
    printf("%e\n", small);
    printf("%e\n", 1e300);
    printf("%e\n", -1e-300);
    printf("%e\n", 0.0);
    printf("%.2e [%12.3e] [%-12.1e]\n", big, big, small);
    printf("%g\n", 0.0001);
    printf("%g\n", 0.00001);
    printf("%g\n", 1e20);
    printf("%g\n", 100000.0);
    printf("%g\n", 1000000.0);
    printf("%g\n", 1234567.0);
    printf("%g\n", 123.456);
    printf("%g\n", 0.5);
    printf("%g\n", 100.0);
    printf("%g\n", -2.5e-7);
    printf("%g\n", 0.0);
    printf("[%10g] [%-10g] [%.3g] [%.10g]\n", x, x, x, x);
    printf("%.1f%%\n", 99.44);
}

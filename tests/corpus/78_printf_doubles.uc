#include <stdio.h>
/* 78_printf_doubles: every floating conversion of printf: %f %F %e %E %g
   %G %a, with flags, widths, precisions and `*`. */

int main(void)
{
    double x = 3.14159265358979, big = 1234567.891, tiny = 0.000012345;
    double neg = -2.5, zero = 0.0;
    printf("[%f] [%.2f] [%10.3f] [%-10.3f|] [%+f] [% f] [%010.2f]\n", x, x, x, x, x, x, neg);
    printf("[%e] [%.3e] [%E] [%12.2e] [%.0e]\n", big, big, tiny, x, big);
    printf("[%g] [%g] [%g] [%G] [%.3g] [%#g] [%g]\n", big, tiny, x, 1e-10, x, 2.0, 100000.0);
    printf("[%g] [%g]\n", 1000000.0, 1e15);
    printf("[%a] [%A] [%.2a]\n", 1.0, 0.5, x);
    printf("[%F] [%.0f] [%.0f] [%.0f] [%#.0f]\n", x, 0.5, 1.5, 2.5, 3.0);
    printf("[%*.*f] [%-*.*f|] [%.*e]\n", 9, 2, x, 9, 2, x, 1, big);
    printf("[%f] [%f] [%e]\n", zero, -zero, zero);
    printf("[%lf] [%.10lf] [%.17g]\n", x, x, 0.1);
    printf("[%.1000f]\n", 0.25 * 0.0);
    return 0;
}

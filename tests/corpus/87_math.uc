#include <stdio.h>
#include <math.h>
/* 87_math: the math library functions UC provides, printed with enough
   digits to show the values are the C library's. */
#define PI 3.14159265358979323846

int main(void)
{
    double x;
    printf("%.10f %.10f %.10f\n", sqrt(2.0), sqrt(144.0), sqrt(0.25));
    printf("%.1f %.1f %.1f %.1f\n", floor(2.7), floor(-2.7), ceil(2.2), ceil(-2.2));
    printf("%.3f %.3f\n", fabs(-3.5), fabs(3.5));
    for (x = 0.0; x < 3.2; x += PI / 4)
        printf("x=%.4f sin=%.10f cos=%.10f\n", x, sin(x), cos(x));
    printf("%.10f %.10f\n", tan(PI / 4), atan(1.0) * 4);
    printf("%.10f %.10f\n", atan2(1.0, -1.0), atan2(-1.0, -1.0));
    printf("%.10f %.10f %.10f\n", exp(1.0), log(10.0), log10(1000.0));
    printf("%.10f %.1f %.10f\n", pow(2.0, 0.5), pow(2.0, 62.0), pow(10.0, -3.0));
    printf("%.3f %.3f %.3f\n", fmod(10.5, 3.0), fmod(-10.5, 3.0), fmod(7.0, -2.5));
    printf("%.6e\n", exp(100.0));
    return 0;
}

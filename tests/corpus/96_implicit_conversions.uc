#include <stdio.h>
/* 96_implicit_conversions: double to int converts (truncating) in
   assignment, argument passing and return; int/unsigned/double mixes
   follow C's usual arithmetic conversions. */

int trunc_it(int x) { return x; }
int from_double(double d) { return d; }
double to_double(int i) { return i; }

int main(void)
{
    int i = 7.9;
    long l;
    double d = 2.5;
    unsigned long u = 3;
    i += 0.6;
    printf("%d\n", i);
    i = -7.9;
    printf("%d\n", i);
    l = d * 3;
    printf("%ld\n", l);
    printf("%d %d %f\n", trunc_it(9.99), from_double(-3.7), to_double(4));
    printf("%f\n", u / 2.0);
    printf("%lu\n", u * 2 - 7);
    l = 10;
    l /= 4.0;
    printf("%ld\n", l);
    l = 10;
    l *= 1.5;
    printf("%ld\n", l);
    printf("%f\n", 7 / 2 + 7 / 2.0);
    return 0;
}

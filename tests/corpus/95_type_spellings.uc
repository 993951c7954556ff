#include <stdio.h>
/* 95_type_spellings: long, long long, short, char, signed, float and their
   combinations, all used within the range where C and UC agree. */

long long square(long long x) { return x * x; }
short half(short x) { return x / 2; }
float third(float x) { return x / 3; }
unsigned long twice(unsigned long x) { return x * 2; }

int main(void)
{
    long a = 1;
    long int b = 2;
    long long c = 3;
    long long int d = 4;
    signed e = -5;
    signed int f = -6;
    signed long g = -7;
    short h = 8;
    short int i = 9;
    char ch = 'z';
    unsigned u = 10;
    unsigned int ui = 11;
    unsigned long int ul = 12;
    float fl = 1.5;
    long double ld = 2.25;
    printf("%ld %ld %lld %lld %d %d %ld\n", a, b, c, d, e, f, g);
    printf("%d %d %c %u %u %lu\n", h, i, ch, u, ui, ul);
    printf("%lld %d %.4f %lu\n", square(123456789), half(101), third(10), twice(21));
    printf("%f %f\n", fl * 2, (double) ld);
    return 0;
}

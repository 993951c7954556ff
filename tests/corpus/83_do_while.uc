#include <stdio.h>
/* 83_do_while: do-while runs at least once; continue jumps to the test;
   digit reversal and a Newton iteration as do-while loops. */

int main(void)
{
    long n = 1234567, rev = 0;
    int i = 10, count = 0;
    double x = 2.0, prev;
    do {
        rev = rev * 10 + n % 10;
        n /= 10;
    } while (n > 0);
    printf("%ld\n", rev);
    do {
        count++;
    } while (i < 5);
    printf("ran %d time(s)\n", count);
    i = 0;
    count = 0;
    do {
        i++;
        if (i % 2)
            continue;
        count += i;
    } while (i < 10);
    printf("sum of evens %d\n", count);
    do {
        prev = x;
        x = (x + 2.0 / x) / 2.0;
    } while (x != prev);
    printf("%.15f\n", x);
    i = 0;
    do
        if (++i == 3)
            break;
    while (1);
    printf("%d\n", i);
    return 0;
}

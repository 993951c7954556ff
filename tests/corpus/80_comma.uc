#include <stdio.h>
/* 80_comma: the comma operator in for loops (two indices moving towards
   each other), in expressions, and its value. */

int main(void)
{
    long a[10];
    int i, j, t;
    long x, y;
    for (i = 0; i < 10; i++)
        a[i] = i * i;
    for (i = 0, j = 9; i < j; i++, j--) {
        t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
    for (i = 0; i < 10; i++)
        printf("%ld ", a[i]);
    printf("\n");
    x = (y = 3, y * 4);
    printf("%ld %ld\n", x, y);
    x = (1, 2, 3);
    printf("%ld\n", x);
    for (i = 0, x = 0, y = 1; i < 10; i++, x += y, y *= 2)
        ;
    printf("%d %ld %ld\n", i, x, y);
    return 0;
}

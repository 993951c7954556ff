#include <stdio.h>
#include <stdlib.h>
/* 89_monte_carlo: estimate pi by throwing points with rand(), as the
   classic example does; the result depends on glibc's exact sequence. */
#define RAND_MAXV 2147483647

int main(void)
{
    long inside = 0, n;
    double x, y;
    srand(12345);
    for (n = 1; n <= 100000; n++) {
        x = (double) rand() / RAND_MAXV;
        y = (double) rand() / RAND_MAXV;
        if (x * x + y * y <= 1.0)
            inside++;
        if (n == 10 || n == 1000 || n == 100000)
            printf("n=%6ld pi~%.6f\n", n, 4.0 * inside / n);
    }
    return 0;
}

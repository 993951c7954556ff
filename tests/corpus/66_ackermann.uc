#include <stdio.h>
/* 66_ackermann: Ackermann's function for small arguments, and the Takeuchi
   function (tak), two recursion benchmarks. */

long ack(long m, long n)
{
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

int tak(int x, int y, int z)
{
    if (y >= x)
        return z;
    return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y));
}

int main(void)
{
    long m, n;
    for (m = 0; m <= 2; m++)
        for (n = 0; n <= 4; n++)
            printf("ack(%ld,%ld)=%ld%c", m, n, ack(m, n), n == 4 ? '\n' : ' ');
    printf("ack(3,3)=%ld\n", ack(3, 3));
    printf("tak(18,12,6)=%d\n", tak(18, 12, 6));
    return 0;
}

#include <stdio.h>
/* 101_large_local_array: large local arrays work (issue 12: `int m[5500]`
   failed to load, as UC zeroed each frame's arrays with unrolled code),
   including one declared inside a loop, which starts at zero each time. */

long test(void)
{
    long m[5500] = {0};
    m[0] = 5;
    return m[0] + m[5499];
}

long sum_fresh(int rounds)
{
    long total = 0;
    int r, i;
    for (r = 0; r < rounds; r++) {
        long big[20000] = {0};
        for (i = 0; i < 20000; i += 1000)
            total += big[i];
        big[r] = 1;
    }
    return total;
}

int main(void)
{
    double d[30000] = {0.0};
    long sum = 0;
    int i;
    printf("%ld\n", test());
    printf("%ld\n", sum_fresh(3));
    for (i = 0; i < 30000; i++)
        sum += d[i] == 0.0;
    printf("%ld zeros\n", sum);
    return 0;
}

#include <stdio.h>
/* 91_heapsort: heapsort of doubles from a linear congruential generator,
   the Numerical Recipes way. */
#define N 500

static double v[N];

void sift(double a[], int start, int end)
{
    int root = start, child;
    double t;
    while ((child = 2 * root + 1) <= end) {
        if (child + 1 <= end && a[child] < a[child + 1])
            child++;
        if (a[root] < a[child]) {
            t = a[root];
            a[root] = a[child];
            a[child] = t;
            root = child;
        } else
            return;
    }
}

int main(void)
{
    unsigned long seed = 1;
    int i;
    double t, sum = 0;
    for (i = 0; i < N; i++) {
        seed = seed * 1103515245UL + 12345UL;
        v[i] = (double) ((seed >> 16) % 10000) / 100.0;
    }
    for (i = N / 2 - 1; i >= 0; i--)
        sift(v, i, N - 1);
    for (i = N - 1; i > 0; i--) {
        t = v[0];
        v[0] = v[i];
        v[i] = t;
        sift(v, 0, i - 1);
    }
    for (i = 0; i < N; i++)
        sum += v[i] * (i % 7);
    printf("%.2f %.2f %.2f %.4f\n", v[0], v[N / 2], v[N - 1], sum);
    return 0;
}

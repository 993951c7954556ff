#include <stdio.h>
#include <stdlib.h>
/* 90_quicksort: recursive quicksort (Hoare partition) of rand() values,
   checked for order, with a checksum. */
#define N 2000

static long a[N];

void quicksort(long v[], int lo, int hi)
{
    long pivot, t;
    int i, j;
    if (lo >= hi)
        return;
    pivot = v[(lo + hi) / 2];
    i = lo - 1;
    j = hi + 1;
    for (;;) {
        do i++; while (v[i] < pivot);
        do j--; while (v[j] > pivot);
        if (i >= j)
            break;
        t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
    quicksort(v, lo, j);
    quicksort(v, j + 1, hi);
}

int main(void)
{
    int i, sorted = 1;
    long sum = 0;
    srand(7);
    for (i = 0; i < N; i++)
        a[i] = rand() % 100000;
    quicksort(a, 0, N - 1);
    for (i = 1; i < N; i++)
        if (a[i - 1] > a[i])
            sorted = 0;
    for (i = 0; i < N; i++)
        sum = sum * 31 + a[i];
    printf("sorted=%d min=%ld max=%ld median=%ld hash=%ld\n", sorted, a[0], a[N - 1], a[N / 2], sum);
    return 0;
}

/* 49_bubble_sort: bubble sort with an early exit, on an long array parameter,
   plus an insertion sort of doubles; data from a small LCG. */
long seed = 12345;

long rand_next()
{
    seed = (seed * 1103515245 + 12345) % 2147483648;
    if (seed < 0)
        seed = -seed;
    return seed;
}

void bubble(long a[])
{
    long i, j, t, swapped, passes = 0;
    for (i = 0; i < len(a) - 1; i++) {
        swapped = 0;
        for (j = 0; j < len(a) - 1 - i; j++) {
            if (a[j] > a[j + 1]) {
                t = a[j];
                a[j] = a[j + 1];
                a[j + 1] = t;
                swapped = 1;
            }
        }
        passes++;
        if (!swapped)
            break;
    }
    printf("passes: %ld\n", passes);
}

void insertion(double a[])
{
    long i, j;
    double key;
    for (i = 1; i < len(a); i++) {
        key = a[i];
        j = i - 1;
        while (j >= 0 && a[j] > key) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = key;
    }
}

long sorted(long a[])
{
    long i;
    for (i = 1; i < len(a); i++)
        if (a[i - 1] > a[i])
            return 0;
    return 1;
}

main()
{
    long a[20], b[6];
    double d[8];
    long i;
    for (i = 0; i < len(a); i++)
        a[i] = rand_next() % 1000;
    printf("sorted before: %ld\n", sorted(a));
    bubble(a);
    for (i = 0; i < len(a); i++)
        printf("%ld ", a[i]);
    printf("\nsorted after: %ld\n", sorted(a));
    for (i = 0; i < len(b); i++)
        b[i] = i;
    bubble(b);
    for (i = 0; i < len(d); i++)
        d[i] = (rand_next() % 10000) / 100.0 - 50;
    insertion(d);
    for (i = 0; i < len(d); i++)
        printf("%.2f ", d[i]);
    printf("\n");
}

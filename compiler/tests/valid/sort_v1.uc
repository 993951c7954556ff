/* sort_v1.uc: version 1 sorts ints in place (insertion sort). */

void sort(int a[], int n)
{
    int i, j, t;
    for (i = 1; i < n; i++) {
        t = a[i];
        j = i - 1;
        while (j >= 0 && a[j] > t) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = t;
    }
}

main()
{
    int v[5] = {5, 3, 9, 1, 4};
    int i;
    sort(v, len(v));
    for (i = 0; i < len(v); i++)
        printf("%d ", v[i]);
    printf("\n");
}

/* sort_v2.uc: version 2 sorts doubles. Old callers still pass int arrays,
 * so the interprocedure of SPEC 2.1 converts in both directions. */

void sort(double a[], int n)
{
    int i, j;
    double t;
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

/* interprocedure: the OLD signature of sort; maps an old call into a new one */
iproc sort(int a[], int n) {
    double b[64];
    int i;
    for (i = 0; i < n; i++) b[i] = a[i];
    new.sort(b, n);
    for (i = 0; i < n; i++) a[i] = (int) b[i];
}

main()
{
    double v[5] = {5.5, 3, 9.25, 1, 4};
    int i;
    sort(v, len(v));
    for (i = 0; i < len(v); i++)
        printf("%.2f ", v[i]);
    printf("\n");
}

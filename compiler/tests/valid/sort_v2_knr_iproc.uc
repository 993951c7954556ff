/* The same interprocedure with a K&R parameter list and an explicit old
 * return type. */

void sort(double a[], int n) { }

iproc void sort(a, n)
int a[];
{
    double b[64];
    int i;
    for (i = 0; i < n; i++) b[i] = a[i];
    new.sort(b, n);
    for (i = 0; i < n; i++) a[i] = (int) b[i];
    return;
}

main() { double v[1]; sort(v, 1); }

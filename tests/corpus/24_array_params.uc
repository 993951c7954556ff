/* 24_array_params: int a[] parameters are passed by reference with their
   length: writes in the callee are seen by the caller, len(a) is the passed
   array's length, and an array parameter can be passed on again. */
int gl[3] = {7, 8, 9};

void fill(int a[], int v)
{
    int i;
    for (i = 0; i < len(a); i++)
        a[i] = v + i;
}

int total(int a[])
{
    int i, s = 0;
    for (i = 0; i < len(a); i++)
        s += a[i];
    return s;
}

void show(int a[])
{
    int i;
    printf("[");
    for (i = 0; i < len(a); i++) {
        if (i > 0)
            printf(", ");
        printf("%d", a[i]);
    }
    printf("] len %d total %d\n", len(a), total(a));
}

void fill_and_show(int a[], int v)
{
    fill(a, v);             /* passing a parameter array on */
    show(a);
}

void swap(int a[], int i, int j)
{
    int t = a[i];
    a[i] = a[j];
    a[j] = t;
}

void reverse(int a[])
{
    int i = 0, j = len(a) - 1;
    while (i < j) {
        swap(a, i, j);
        i++;
        j--;
    }
}

void increment_all(int a[])
{
    int i;
    for (i = 0; i < len(a); i++)
        a[i]++;
}

main()
{
    int small[3], big[8];
    show(small);
    fill(small, 10);
    show(small);
    fill_and_show(big, 100);
    reverse(big);
    show(big);
    show(gl);
    increment_all(gl);
    reverse(gl);
    show(gl);
    printf("%d\n", gl[0]);
}

/* 19_declarations: several declarators per declaration, some initialized,
   initializers that use earlier variables and calls, arrays and scalars in
   one declaration. */
int g1 = 1, g2, g3 = 3;
double gd1, gd2 = 2.5;

int twice(int v)
{
    return 2 * v;
}

main()
{
    int i, j = 0, k = 5;
    int a = k * 2, b = twice(a), c = a + b;
    double p = 1.0, q, r = p / 4;
    int arr[3], n = 3, brr[2];
    i = 1;
    q = 0.5;
    printf("%d %d %d\n", i, j, k);
    printf("%d %d %d\n", a, b, c);
    printf("%f %f %f\n", p, q, r);
    arr[0] = n;
    brr[1] = n * n;
    printf("%d %d %d %d %d\n", arr[0], arr[1], arr[2], brr[0], brr[1]);
    printf("%d %d %d %f %f\n", g1, g2, g3, gd1, gd2);
    {
        int m = c - 1, z;
        z = m + 1;
        printf("%d %d\n", m, z);
    }
}

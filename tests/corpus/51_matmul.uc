/* 51_matmul: matrix multiply with doubles, n x n matrices stored row-major
   in one-dimensional arrays; identity check and a trace. */
void matmul(double a[], double b[], double c[], int n)
{
    int i, j, k;
    double s;
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++) {
            s = 0;
            for (k = 0; k < n; k++)
                s += a[i * n + k] * b[k * n + j];
            c[i * n + j] = s;
        }
}

void print_matrix(double m[], int n)
{
    int i, j;
    for (i = 0; i < n; i++) {
        for (j = 0; j < n; j++)
            printf("%8.3f", m[i * n + j]);
        printf("\n");
    }
}

double trace(double m[], int n)
{
    int i;
    double t = 0;
    for (i = 0; i < n; i++)
        t += m[i * n + i];
    return t;
}

main()
{
    double a[9], b[9], c[9], id[9];
    int i, j, n = 3;
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++) {
            a[i * n + j] = i + j * 0.5;
            b[i * n + j] = (i + 1) * (j + 1) / 4.0;
            id[i * n + j] = i == j;
        }
    matmul(a, b, c, n);
    print_matrix(c, n);
    printf("trace %f\n", trace(c, n));
    matmul(a, id, c, n);
    print_matrix(c, n);
    matmul(c, c, b, n);
    printf("trace of a*a: %.4e\n", trace(b, n));
}

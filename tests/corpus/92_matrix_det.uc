#include <stdio.h>
#include <math.h>
/* 92_matrix_det: Gaussian elimination with partial pivoting on a
   flattened 6x6 matrix (UC has no 2-D arrays), determinant and solve. */
#define N 6

static double m[N * N], b[N], x[N];

int main(void)
{
    int i, j, k, p;
    double det = 1.0, t, f;
    for (i = 0; i < N; i++) {
        for (j = 0; j < N; j++)
            m[i * N + j] = 1.0 / (i + j + 1) + (i == j ? 1.0 : 0.0);
        b[i] = i + 1;
    }
    for (k = 0; k < N; k++) {
        p = k;
        for (i = k + 1; i < N; i++)
            if (fabs(m[i * N + k]) > fabs(m[p * N + k]))
                p = i;
        if (p != k) {
            for (j = 0; j < N; j++) {
                t = m[k * N + j];
                m[k * N + j] = m[p * N + j];
                m[p * N + j] = t;
            }
            t = b[k];
            b[k] = b[p];
            b[p] = t;
            det = -det;
        }
        det *= m[k * N + k];
        for (i = k + 1; i < N; i++) {
            f = m[i * N + k] / m[k * N + k];
            for (j = k; j < N; j++)
                m[i * N + j] -= f * m[k * N + j];
            b[i] -= f * b[k];
        }
    }
    for (i = N - 1; i >= 0; i--) {
        t = b[i];
        for (j = i + 1; j < N; j++)
            t -= m[i * N + j] * x[j];
        x[i] = t / m[i * N + i];
    }
    printf("det = %.12f\n", det);
    for (i = 0; i < N; i++)
        printf("x[%d] = %+.10f\n", i, x[i]);
    return 0;
}

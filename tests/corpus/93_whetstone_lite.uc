#include <stdio.h>
#include <math.h>
/* 93_whetstone_lite: the modules of the Whetstone benchmark with small
   loop counts: array arithmetic, conditional jumps, integer arithmetic,
   trigonometry, procedure calls and standard functions. */

static double e1[4];
static double t = 0.499975, t1 = 0.50025, t2 = 2.0;

void pa(double e[])
{
    int j = 0;
    do {
        e[0] = (e[0] + e[1] + e[2] - e[3]) * t;
        e[1] = (e[0] + e[1] - e[2] + e[3]) * t;
        e[2] = (e[0] - e[1] + e[2] + e[3]) * t;
        e[3] = (-e[0] + e[1] + e[2] + e[3]) / t2;
        j++;
    } while (j < 6);
}

double p3(double x, double y)
{
    x = t * (x + y);
    y = t * (x + y);
    return (x + y) / t2;
}

int main(void)
{
    int i, j = 1, k = 2, l = 3;
    double x = 1.0, y = 1.0, z = 1.0;
    e1[0] = 1.0;
    e1[1] = e1[2] = e1[3] = -1.0;
    for (i = 0; i < 20; i++)
        pa(e1);
    printf("%.9e %.9e %.9e %.9e\n", e1[0], e1[1], e1[2], e1[3]);
    for (i = 0; i < 100; i++) {
        j = j == 1 ? 2 : 3;
        j = j > 2 ? 0 : 1;
        j = j < 1 ? 1 : 0;
    }
    for (i = 0; i < 100; i++) {
        j = j * (k - j) * (l - k);
        k = l * k - (l - j) * k;
        l = (l - k) * (k + j);
        e1[l - 2 < 0 ? 0 : (l - 2) % 4] = j + k + l;
        e1[k - 2 < 0 ? 0 : (k - 2) % 4] = j * k * l;
    }
    printf("%d %d %d\n", j, k, l);
    x = y = 0.5;
    for (i = 1; i < 50; i++) {
        x = t * atan(t2 * sin(x) * cos(x) / (cos(x + y) + cos(x - y) - 1.0));
        y = t * atan(t2 * sin(y) * cos(y) / (cos(x + y) + cos(x - y) - 1.0));
    }
    printf("%.9f %.9f\n", x, y);
    x = y = z = 1.0;
    for (i = 0; i < 100; i++)
        z = p3(x, y);
    printf("%.9f\n", z);
    x = 0.75;
    for (i = 0; i < 100; i++)
        x = sqrt(exp(log(x) / t1));
    printf("%.9f\n", x);
    return 0;
}

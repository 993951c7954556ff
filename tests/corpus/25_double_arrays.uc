/* 25_double_arrays: double arrays as locals, globals and parameters
   (double a[]), mean and variance, in-place scaling seen by the caller. */
double samples[6] = {2.0, 4.0, 4.0, 5.0, 7.0, 9.0};

double mean(double a[])
{
    int i;
    double s = 0;
    for (i = 0; i < len(a); i++)
        s += a[i];
    return s / len(a);
}

double variance(double a[])
{
    int i;
    double m = mean(a), s = 0.0, d;
    for (i = 0; i < len(a); i++) {
        d = a[i] - m;
        s += d * d;
    }
    return s / len(a);
}

void scale(double a[], double k)
{
    int i;
    for (i = 0; i < len(a); i++)
        a[i] *= k;
}

main()
{
    double v[4];
    int i;
    printf("mean %f variance %f\n", mean(samples), variance(samples));
    scale(samples, 0.5);
    printf("after scaling: %f %f %f\n", samples[0], samples[5], mean(samples));
    for (i = 0; i < len(v); i++)
        v[i] = i;           /* int stored into a double element */
    v[3] += 0.25;
    scale(v, 2);
    for (i = 0; i < len(v); i++)
        printf("%.2f ", v[i]);
    printf("\nmean %f\n", mean(v));
}

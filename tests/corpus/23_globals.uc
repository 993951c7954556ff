/* 23_globals: global scalars and arrays, zero by default, initialized from
   constant expressions and brace lists (a short list zero-fills the rest),
   shared by every procedure. */
int seven = 2 * 3 + 1;
int neg = -(4 + 5) * 2;
int q = 17 / 5, r = 17 % 5, m = -17 / 5;
int zero;
double pi = 3.14159265358979;
double third = 1.0 / 3;
double mixed = 2 * 3 + 0.5;
int primes[6] = {2, 3, 5, 7, 11, 13};
int partial[5] = {1, 2};
int exprs[4] = {1 + 1, 2 * 3, -4, 10 / 3};
double dv[3] = {1.5, -2.25, 3};
int counts[4];
double dz[2];

void bump(int i)
{
    counts[i]++;
    zero += i;
}

main()
{
    int i;
    printf("%d %d %d %d %d %d\n", seven, neg, q, r, m, zero);
    printf("%f %f %f\n", pi, third, mixed);
    for (i = 0; i < len(primes); i++)
        printf("%d ", primes[i]);
    printf("\n");
    for (i = 0; i < len(partial); i++)
        printf("%d ", partial[i]);
    printf("\n");
    for (i = 0; i < len(exprs); i++)
        printf("%d ", exprs[i]);
    printf("\n");
    printf("%f %f %f\n", dv[0], dv[1], dv[2]);
    printf("%f %f\n", dz[0], dz[1]);
    bump(1);
    bump(3);
    bump(3);
    printf("%d %d %d %d zero=%d\n", counts[0], counts[1], counts[2], counts[3], zero);
    seven = seven * 100;
    primes[0] = 1;
    printf("%d %d\n", seven, primes[0]);
}

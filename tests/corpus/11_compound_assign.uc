/* 11_compound_assign: += -= *= /= %= on int and double scalars, globals and
   array elements; int right-hand sides into double places. */
int g = 100;
double gd = 1.5;

main()
{
    int i = 10;
    double d = 2.0;
    int a[3];
    double b[2];
    i += 5;   printf("%d\n", i);
    i -= 20;  printf("%d\n", i);
    i *= -3;  printf("%d\n", i);
    i /= 4;   printf("%d\n", i);
    i %= 2;   printf("%d\n", i);
    i = -17;
    i /= 5;   printf("%d\n", i);
    i = -17;
    i %= 5;   printf("%d\n", i);
    d += 0.5; printf("%f\n", d);
    d -= 1;   printf("%f\n", d);
    d *= 4;   printf("%f\n", d);
    d /= 8;   printf("%f\n", d);
    d += i;   printf("%f\n", d);
    g += g;   printf("%d\n", g);
    g -= 1 + 2 * 3;
    printf("%d\n", g);
    gd *= gd; printf("%f\n", gd);
    a[1] = 4;
    a[1] *= 5;
    a[2] += a[1] + 1;
    a[0] -= 9;
    printf("%d %d %d\n", a[0], a[1], a[2]);
    a[2] %= 4;
    a[1] /= 3;
    printf("%d %d %d\n", a[0], a[1], a[2]);
    b[0] += 1.25;
    b[1] -= b[0] * 2;
    b[1] /= 2;
    printf("%f %f\n", b[0], b[1]);
}

/* 05_mixed_conversions: int converts to double implicitly in mixed arithmetic,
   in assignment, in declarations, for arguments and for return values. */
double half(double v)
{
    return v / 2;
}

double three()
{
    return 3;           /* int returned from a double procedure */
}

double gd = 7;          /* int initializer for a double global */

main()
{
    int i = 7;
    double d = 2;       /* int initializer */
    double e;
    printf("%f\n", d);
    printf("%f\n", i / d);
    printf("%f\n", i + 0.5);
    printf("%f\n", 0.5 * i);
    printf("%f\n", i - d * 3);
    e = i;              /* int assigned to double */
    printf("%f\n", e);
    e = i / 2;          /* int division first, then conversion */
    printf("%f\n", e);
    e = i / 2.0;
    printf("%f\n", e);
    printf("%f\n", half(i));    /* int argument for a double parameter */
    printf("%f\n", half(5));
    printf("%f\n", three());
    printf("%f\n", three() / 2);
    printf("%f\n", gd / 2);
    e += 1;             /* compound assignment of int into double */
    printf("%f\n", e);
    e = 9007199254740993;       /* 2^53 + 1 rounds to 2^53 */
    printf("%.1f\n", e);
    printf("%d\n", i < 7.5);
    printf("%d\n", 3 == 3.0);
}

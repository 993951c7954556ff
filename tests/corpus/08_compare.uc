/* 08_compare: comparisons yield int 0 or 1, on ints, doubles and mixed
   operands; results can be used in arithmetic. */
main()
{
    int a = 3, b = 5;
    double x = 2.5, y = 2.5;
    printf("%d %d %d %d %d %d\n", a < b, a <= b, a > b, a >= b, a == b, a != b);
    printf("%d %d %d %d %d %d\n", b < a, b <= a, b > a, b >= a, b == a, b != a);
    printf("%d %d %d %d\n", a <= 3, a >= 3, a < 3, a > 3);
    printf("%d %d %d %d %d %d\n", x < y, x <= y, x > y, x >= y, x == y, x != y);
    printf("%d %d\n", a < x, x < a);
    printf("%d\n", (a < b) + (b < a) + (a == 3) + 10 * (x == 2.5));
    printf("%d\n", 1 < 2 == 1);
    printf("%d\n", a - 3 == 0);
    printf("%d\n", -1 < 0);
    printf("%d\n", -9223372036854775807 - 1 < 9223372036854775807);
    printf("%d\n", 0.1 + 0.2 == 0.3);
    printf("%d\n", 0.5 + 0.25 == 0.75);
    if (a < b)
        printf("a < b\n");
    if (x == y)
        printf("x == y\n");
}

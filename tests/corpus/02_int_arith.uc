/* 02_int_arith: + - * / % on ints, precedence, parentheses, unary minus,
   truncating division and C remainder on negative operands. */
long main()
{
    long a = 17, b = 5;
    printf("%ld %ld %ld %ld %ld\n", a + b, a - b, a * b, a / b, a % b);
    printf("%ld %ld\n", -a / b, -a % b);
    printf("%ld %ld\n", a / -b, a % -b);
    printf("%ld %ld\n", -a / -b, -a % -b);
    printf("%ld\n", 2 + 3 * 4);
    printf("%ld\n", (2 + 3) * 4);
    printf("%ld\n", 20 - 5 - 3);
    printf("%ld\n", 100 / 10 / 5);
    printf("%ld\n", 7 * 8 % 5);
    printf("%ld\n", -(3 - 10));
    printf("%ld\n", - -4);
    printf("%ld\n", -a + b * -2);
    printf("%ld\n", 0 - 1 - 2 * 3 + 10 / 3 % 2);
    printf("%ld\n", (long)1000000007 * 1000000007);
    printf("%ld %ld\n", 7 / 7, 0 / 5);
    printf("%ld %ld %ld\n", 6 % 3, -6 % 3, 1 % 1);
    return 0;
}

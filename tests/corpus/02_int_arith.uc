/* 02_int_arith: + - * / % on ints, precedence, parentheses, unary minus,
   truncating division and C remainder on negative operands. */
int main()
{
    int a = 17, b = 5;
    printf("%d %d %d %d %d\n", a + b, a - b, a * b, a / b, a % b);
    printf("%d %d\n", -a / b, -a % b);
    printf("%d %d\n", a / -b, a % -b);
    printf("%d %d\n", -a / -b, -a % -b);
    printf("%d\n", 2 + 3 * 4);
    printf("%d\n", (2 + 3) * 4);
    printf("%d\n", 20 - 5 - 3);
    printf("%d\n", 100 / 10 / 5);
    printf("%d\n", 7 * 8 % 5);
    printf("%d\n", -(3 - 10));
    printf("%d\n", - -4);
    printf("%d\n", -a + b * -2);
    printf("%d\n", 0 - 1 - 2 * 3 + 10 / 3 % 2);
    printf("%d\n", 1000000007 * 1000000007);
    printf("%d %d\n", 7 / 7, 0 / 5);
    printf("%d %d %d\n", 6 % 3, -6 % 3, 1 % 1);
    return 0;
}

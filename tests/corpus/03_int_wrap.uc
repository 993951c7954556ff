/* 03_int_wrap: int is 64-bit and wraps on overflow; INT_MIN / -1 wraps to
   INT_MIN and INT_MIN % -1 is 0 (UC semantics; C would trap). */
int big;
main()
{
    int max = 9223372036854775807;
    int min = -9223372036854775807 - 1;
    int m1 = -1;
    big = max;
    printf("%d\n", max);
    printf("%d\n", min);
    printf("%d\n", max + 1);
    printf("%d\n", min - 1);
    printf("%d\n", max * 2);
    printf("%d\n", min * m1);
    printf("%d\n", -min);
    printf("%d\n", min / m1);
    printf("%d\n", min % m1);
    printf("%d\n", max / m1);
    printf("%d\n", 4294967296 * 4294967296);
    printf("%d\n", 3037000500 * 3037000500);
    big++;
    printf("%d\n", big);
    big--;
    printf("%d\n", big);
    big += 10;
    printf("%d\n", big);
    big = min;
    big /= m1;
    printf("%d\n", big);
    big %= m1;
    printf("%d\n", big);
    printf("%d\n", min == -min);
}

/* 03_int_wrap: long is 64-bit and wraps on overflow; INT_MIN / -1 wraps to
   INT_MIN and INT_MIN % -1 is 0 (UC semantics; C would trap). */
long big;
main()
{
    long max = 9223372036854775807;
    long min = -9223372036854775807 - 1;
    long m1 = -1;
    big = max;
    printf("%ld\n", max);
    printf("%ld\n", min);
    printf("%ld\n", max + 1);
    printf("%ld\n", min - 1);
    printf("%ld\n", max * 2);
    printf("%ld\n", min * m1);
    printf("%ld\n", -min);
    printf("%ld\n", min / m1);
    printf("%ld\n", min % m1);
    printf("%ld\n", max / m1);
    printf("%ld\n", 4294967296 * 4294967296);
    printf("%ld\n", 3037000500 * 3037000500);
    big++;
    printf("%ld\n", big);
    big--;
    printf("%ld\n", big);
    big += 10;
    printf("%ld\n", big);
    big = min;
    big /= m1;
    printf("%ld\n", big);
    big %= m1;
    printf("%ld\n", big);
    printf("%ld\n", min == -min);
}

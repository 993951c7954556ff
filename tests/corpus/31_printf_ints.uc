/* 31_printf_ints: %ld and %li with widths, left adjustment, zero padding,
   a sign flag, negative numbers, extreme values; %c; %%. */
main()
{
    long n = 42, neg = -42;
    printf("[%ld] [%li]\n", n, n);
    printf("[%5ld] [%-5ld] [%05ld]\n", n, n, n);
    printf("[%5ld] [%-5ld] [%05ld]\n", neg, neg, neg);
    printf("[%1ld] [%2ld] [%3ld]\n", 12345, 12345, 12345);
    printf("[%+ld] [%+ld] [% ld]\n", n, neg, n);
    printf("[%ld] [%ld]\n", 9223372036854775807, -9223372036854775807 - 1);
    printf("[%20ld]\n", 9223372036854775807);
    printf("[%-8li|] [%08li]\n", 7, -7);
    printf("[%ld]\n", 0);
    printf("[%.3ld] [%6.3ld]\n", 5, 5);
    printf("%c%c%c\n", 65, 66, 67);
    printf("[%c] [%3c] [%-3c]\n", 120, 121, 122);
    printf("%ld%%\n", 50);
    printf("%%d is literal, 100%% sure\n");
    printf("%ld+%ld=%ld\n", 2, 3, 2 + 3);
}

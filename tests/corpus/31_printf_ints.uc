/* 31_printf_ints: %d and %i with widths, left adjustment, zero padding,
   a sign flag, negative numbers, extreme values; %c; %%. */
main()
{
    int n = 42, neg = -42;
    printf("[%d] [%i]\n", n, n);
    printf("[%5d] [%-5d] [%05d]\n", n, n, n);
    printf("[%5d] [%-5d] [%05d]\n", neg, neg, neg);
    printf("[%1d] [%2d] [%3d]\n", 12345, 12345, 12345);
    printf("[%+d] [%+d] [% d]\n", n, neg, n);
    printf("[%d] [%d]\n", 9223372036854775807, -9223372036854775807 - 1);
    printf("[%20d]\n", 9223372036854775807);
    printf("[%-8i|] [%08i]\n", 7, -7);
    printf("[%d]\n", 0);
    printf("[%.3d] [%6.3d]\n", 5, 5);
    printf("%c%c%c\n", 65, 66, 67);
    printf("[%c] [%3c] [%-3c]\n", 120, 121, 122);
    printf("%d%%\n", 50);
    printf("%%d is literal, 100%% sure\n");
    printf("%d+%d=%d\n", 2, 3, 2 + 3);
}

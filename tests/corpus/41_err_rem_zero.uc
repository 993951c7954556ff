/* 41_err_rem_zero: int remainder by zero is a runtime error too. */
main()
{
    int a = 17, b = 4;
    while (1) {
        printf("%d %% %d = %d\n", a, b, a % b);
        b -= 2;
    }
}

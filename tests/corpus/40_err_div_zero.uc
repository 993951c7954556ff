/* 40_err_div_zero: int division by zero stops the program with a runtime
   error (exit 1); the output printed before it is kept. */
int divide(int a, int b)
{
    return a / b;
}

main()
{
    int i;
    for (i = 3; i >= 0; i--)
        printf("12 / %d = %d\n", i, divide(12, i));
    printf("not reached\n");
}

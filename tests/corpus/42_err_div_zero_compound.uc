/* 42_err_div_zero_compound: /= by zero traps (also in a static). */
void halve(int by)
{
    static int v = 1000;
    v /= by;
    printf("v = %d\n", v);
}

main()
{
    halve(2);
    halve(5);
    halve(0);
    printf("not reached\n");
}

/* 27_mutual_recursion: is_even/is_odd call each other, and procedures are
   called before their definitions appear. */
main()
{
    int i;
    for (i = 0; i < 6; i++)
        printf("%d: even %d odd %d\n", i, is_even(i), is_odd(i));
    printf("is_even(501) = %d\n", is_even(501));
    printf("hofstadter F: ");
    for (i = 0; i < 15; i++)
        printf("%d ", hof_f(i));
    printf("\nhofstadter M: ");
    for (i = 0; i < 15; i++)
        printf("%d ", hof_m(i));
    printf("\n");
}

int is_even(int n)
{
    if (n == 0)
        return 1;
    return is_odd(n - 1);
}

int is_odd(int n)
{
    if (n == 0)
        return 0;
    return is_even(n - 1);
}

int hof_f(int n)
{
    if (n == 0)
        return 1;
    return n - hof_m(hof_f(n - 1));
}

int hof_m(int n)
{
    if (n == 0)
        return 0;
    return n - hof_f(hof_m(n - 1));
}

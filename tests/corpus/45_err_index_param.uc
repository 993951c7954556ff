/* 45_err_index_param: an array parameter is bounds-checked against the
   length of the array the caller passed. */
int sum_first(int a[], int n)
{
    int i, s = 0;
    for (i = 0; i < n; i++)
        s += a[i];
    return s;
}

main()
{
    int small[3];
    int big[10];
    small[0] = 1; small[1] = 2; small[2] = 3;
    printf("%d\n", sum_first(big, 10));
    printf("%d\n", sum_first(small, 3));
    printf("%d\n", sum_first(small, 4));
    printf("not reached\n");
}

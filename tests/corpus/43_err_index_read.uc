/* 43_err_index_read: reading one past the end of a local array is a
   runtime error. */
main()
{
    int a[5];
    int i, s = 0;
    for (i = 0; i < 5; i++)
        a[i] = i + 1;
    for (i = 0; i <= 5; i++) {
        s += a[i];
        printf("s = %d\n", s);
    }
    printf("not reached\n");
}

/* 44_err_index_write: writing a global array at a negative index is a
   runtime error (no memory outside the array is touched). */
int g[4];
int after = 77;

main()
{
    int i;
    for (i = 3; i > -3; i--) {
        g[i] = 10 * i;
        printf("g[%d] = %d, after = %d\n", i, g[i], after);
    }
    printf("not reached\n");
}

/* 38_exit_computed: the exit code is computed, and exit runs from a
   recursive procedure. */
int down(int n)
{
    if (n == 0) {
        printf("bottom\n");
        exit(2 * 3 + 1);
    }
    printf("down %d\n", n);
    return down(n - 1) + 1;
}

main()
{
    printf("%d\n", down(3));
}

/* 14_while: while loops, nested, with break and continue, a while whose
   body never runs, and a loop condition that calls a procedure. */
int below(int n, int limit)
{
    return n < limit;
}

main()
{
    int i = 0, j, sum = 0;
    while (i < 10) {
        sum += i;
        i++;
    }
    printf("sum 0..9 = %d\n", sum);
    while (0)
        printf("never\n");
    i = 1;
    while (i < 1000)
        i *= 3;
    printf("first power of 3 >= 1000: %d\n", i);
    i = 0;
    while (1) {
        i++;
        if (i % 2 == 0)
            continue;
        if (i > 9)
            break;
        printf("%d ", i);
    }
    printf("\nstopped at %d\n", i);
    i = 1;
    while (i <= 3) {
        j = 1;
        while (j <= 3) {
            printf("%d", i * j);
            if (j < 3) printf(" ");
            j++;
        }
        printf("\n");
        i++;
    }
    i = 0;
    while (below(i, 5))
        i += 2;
    printf("i = %d\n", i);
}

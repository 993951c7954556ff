/* 15_for: for loops counting up and down, with empty parts, for(;;) with
   break, an empty body, continue running the step, and a double counter. */
main()
{
    int i, n, count;
    double x;
    for (i = 0; i < 5; i++)
        printf("%d ", i);
    printf("\n");
    for (i = 10; i > 0; i -= 3)
        printf("%d ", i);
    printf("\n");
    i = 0;
    for (; i < 3;)
        i++;
    printf("i = %d\n", i);
    n = 0;
    for (;;) {
        n++;
        if (n * n > 50)
            break;
    }
    printf("n = %d\n", n);
    for (i = 0; i < 100; i++)
        ;
    printf("after empty body i = %d\n", i);
    count = 0;
    for (i = 0; i < 10; i++) {
        if (i % 3 == 0)
            continue;       /* the step i++ still runs */
        count++;
        printf("%d ", i);
    }
    printf("\ncount = %d, i = %d\n", count, i);
    for (x = 0.0; x < 1.0; x += 0.25)
        printf("%.2f ", x);
    printf("\n");
    for (i = 0; i < 0; i++)
        printf("never\n");
    count = 0;
    for (i = 0; i < 3; i++) for (n = 0; n < 4; n++) count++;
    printf("count = %d\n", count);
}

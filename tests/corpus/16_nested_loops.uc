/* 16_nested_loops: break and continue leave or restart only the innermost
   loop; continue in a for runs that loop's step. */
main()
{
    int i, j, k, total;
    for (i = 0; i < 4; i++) {
        for (j = 0; j < 4; j++) {
            if (j == i)
                continue;
            if (j > i)
                break;
            printf("(%d,%d) ", i, j);
        }
    }
    printf("\n");
    total = 0;
    for (i = 0; i < 5; i++) {
        j = 0;
        while (1) {
            j++;
            if (j > i)
                break;
            if (j == 2)
                continue;
            total += j;
        }
        if (i == 3)
            continue;
        total += 100;
    }
    printf("total = %d\n", total);
    k = 0;
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++)
            for (total = 0; total < 3; total++) {
                if (total == 1)
                    continue;
                if (j == 2)
                    break;
                k++;
            }
    printf("k = %d\n", k);
    i = 0;
    while (i < 3) {
        i++;
        for (j = 0; j < 10; j++) {
            if (j == i)
                break;
            printf("%d", j);
        }
        printf("|");
    }
    printf("\n");
}

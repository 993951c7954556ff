/* 13_if_else: if without else, if/else, else-if chains, nested ifs, the
   dangling else (it binds to the nearest if), conditions on doubles. */
void classify(int n)
{
    if (n < 0)
        printf("%d negative\n", n);
    else if (n == 0)
        printf("%d zero\n", n);
    else if (n < 10)
        printf("%d small\n", n);
    else if (n < 100)
        printf("%d medium\n", n);
    else
        printf("%d large\n", n);
}

void dangling(int a, int b)
{
    printf("dangling(%d, %d):", a, b);
    if (a)
        if (b)
            printf(" a and b");
        else
            printf(" a and not b");
    printf("\n");
}

main()
{
    int i;
    classify(-5);
    classify(0);
    classify(7);
    classify(42);
    classify(1000);
    dangling(0, 0);
    dangling(0, 1);
    dangling(1, 0);
    dangling(1, 1);
    if (1) printf("one\n");
    if (0) printf("never\n");
    if (0) printf("never\n"); else printf("else\n");
    if (-1) printf("minus one is true\n");
    for (i = 0; i < 4; i++) {
        if (i % 2 == 0) {
            if (i == 0) {
                printf("%d: zero\n", i);
            } else {
                printf("%d: even\n", i);
            }
        } else
            printf("%d: odd\n", i);
    }
}

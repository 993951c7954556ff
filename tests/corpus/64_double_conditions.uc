/* 64_double_conditions: a double used as a condition is true when it is
   not 0.0 (as in C), in if, while and for, and under !. */
main()
{
    double x = 0.0, d = 1.0;
    int n = 0;
    if (x) printf("x true\n"); else printf("x false\n");
    x = 0.1;
    if (x) printf("x true\n"); else printf("x false\n");
    if (-0.0) printf("-0.0 true\n"); else printf("-0.0 false\n");
    if (!x) printf("!x true\n"); else printf("!x false\n");
    while (d) {
        d -= 0.25;
        n++;
    }
    printf("n = %d\n", n);
    for (d = 3.0; d; d -= 1.0)
        printf("d = %f\n", d);
}

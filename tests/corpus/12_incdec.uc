/* 12_incdec: prefix and postfix ++ and -- on int and double locals, globals,
   statics and array elements; a[i++] += 1 evaluates its index once. */
int g;

int counter()
{
    static int n;
    return ++n;
}

main()
{
    int i = 5, j;
    double d = 1.5;
    int a[5];
    j = i++;
    printf("%d %d\n", i, j);
    j = ++i;
    printf("%d %d\n", i, j);
    j = i--;
    printf("%d %d\n", i, j);
    j = --i;
    printf("%d %d\n", i, j);
    d++;
    printf("%f\n", d);
    printf("%f\n", d--);
    printf("%f\n", --d);
    printf("%f\n", ++d);
    g++;
    ++g;
    g--;
    printf("g = %d\n", g);
    i = counter();
    j = counter();
    printf("%d %d %d\n", i, j, counter());
    i = 0;
    a[i++] += 1;
    printf("i = %d\n", i);
    a[i++] += 10;
    a[i++] += 100;
    printf("i = %d: %d %d %d %d %d\n", i, a[0], a[1], a[2], a[3], a[4]);
    i = 4;
    a[--i] -= 7;
    printf("i = %d: %d %d %d %d %d\n", i, a[0], a[1], a[2], a[3], a[4]);
    a[0]++;
    ++a[1];
    a[2]--;
    --a[3];
    printf("%d %d %d %d %d\n", a[0], a[1], a[2], a[3], a[4]);
    i = 0;
    a[i++] = 50;
    printf("i = %d a[0] = %d\n", i, a[0]);
    j = a[4]++;
    printf("j = %d a[4] = %d\n", j, a[4]);
    j = --a[4] * 10;
    printf("j = %d a[4] = %d\n", j, a[4]);
    i = 3;
    j = i++ * 10;
    printf("%d %d\n", i, j);
    for (i = 0; i < 5; i++)
        a[i] = 0;
    i = 0;
    while (i < 5)
        a[i++]++;
    printf("%d %d %d %d %d\n", a[0], a[1], a[2], a[3], a[4]);
}

/* 18_blocks_shadowing: nested blocks open scopes; an inner declaration
   shadows an outer local or a global until its block ends. */
int x = 1;
double y = 0.5;

void show()
{
    printf("global x = %d, y = %f\n", x, y);
}

main()
{
    printf("x = %d\n", x);
    {
        int x = 2;
        printf("x = %d\n", x);
        {
            double x = 3.5;
            printf("x = %f\n", x);
            show();
        }
        printf("x = %d\n", x);
        x = 20;
        {
            int y = 7;
            printf("x = %d, y = %d\n", x, y);
        }
        printf("y = %f\n", y);
    }
    printf("x = %d\n", x);
    {
        int i;
        for (i = 0; i < 2; i++) {
            int x = i * 10;
            x++;
            printf("loop x = %d\n", x);
        }
    }
    x = 99;
    show();
    {
    }
}

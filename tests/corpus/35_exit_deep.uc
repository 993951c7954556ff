/* 35_exit_deep: exit(3) from deep inside nested calls and loops stops the
   program at once with code 3; the output printed before it is kept. */
void level3(int n)
{
    int i;
    for (i = 0; i < 10; i++) {
        printf("level3 i = %d\n", i);
        if (i == n)
            exit(3);
    }
    printf("not reached\n");
}

void level2(int n)
{
    printf("level2\n");
    level3(n);
    printf("not reached\n");
}

int level1(int n)
{
    printf("level1\n");
    level2(n);
    printf("not reached\n");
    return 1;
}

main()
{
    printf("start\n");
    level1(2);
    printf("not reached\n");
}

main()
{
    int x
    x = 1;
    printf("%d\n", x);
}

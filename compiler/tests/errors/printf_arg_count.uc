main()
{
    int pd = 1;
    printf("pizza %d of %d\n", pd);
    printf("done\n", pd);
}

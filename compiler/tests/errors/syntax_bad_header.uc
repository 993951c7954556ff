int f(int a b)
{
    return a;
}

main()
{
    int x = ;
}

/* Three independent syntax errors: each is reported, none hides the next. */
first()
{
    int a = (1 + 2;
    return a;
}

second(n)
int n;
{
    if (n > 0 {
        return n;
    }
    return 0;
}

main()
{
    first();
    second(3) + ;
}

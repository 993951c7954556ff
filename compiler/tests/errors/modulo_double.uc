main()
{
    double x = 7.5;
    int r = x % 2;
    x %= 2;
}

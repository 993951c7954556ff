main()
{
    int x = 1;
    double x = 2.0;
    {
        int x = 3;
    }
}

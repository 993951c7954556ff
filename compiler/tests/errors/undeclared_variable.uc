main()
{
    int count = 0;
    {
        int inner = 1;
    }
    count = inner + cuont;
}

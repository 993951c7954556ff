main()
{
    int huge[65537];
    double none[0];
    int ok[65536];
}

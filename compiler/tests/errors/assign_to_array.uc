main()
{
    int a[3];
    int b[3];
    a = b;
}

int speed = 3;

go() { return 1; }

main()
{
    int n = speed();
    n = go + 1;
}

int seed = 5;

main()
{
    static int copy = seed;
    static int zero = 1 / 0;
    static double ok = 2 * 3.5;
}

int table[3] = {1, 2, 3, 4};

main()
{
    double local[2] = {1.0, 2.0, 3.0};
}

int total = 0;

total()
{
    return 1;
}

main() { total(); }

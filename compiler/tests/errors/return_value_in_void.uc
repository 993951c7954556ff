void reset()
{
    return 0;
}

main() { reset(); }

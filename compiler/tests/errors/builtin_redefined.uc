int len = 3;

printf(x)
{
    return x;
}

main() { }

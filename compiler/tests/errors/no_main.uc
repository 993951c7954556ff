helper()
{
    return 1;
}

main(argc)
int argc;
{
    return argc;
}

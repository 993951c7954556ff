void nothing() { }

main()
{
    int x = nothing();
    x = printf("hi\n") + 1;
}

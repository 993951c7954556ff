void show(int n) { printf("%d\n", n); }

main()
{
    printf("%s\n", 42);
    show("forty-two");
    printf("%d\n", "x");
}

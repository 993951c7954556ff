int add(int a, int b) { return a + b; }

main()
{
    add(1);
    add(1, 2, 3);
    sleep_ms();
}

main()
{
    int i = 0;
    if (i == 0)
        break;
    continue;
    while (i < 3) { i++; if (i == 2) break; }
}

main()
{
    printf("hex %x\n", 255);
}

main()
{
    do_pizza();
}

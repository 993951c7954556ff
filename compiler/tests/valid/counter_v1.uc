/* counter_v1.uc: a global counter, counted in units. */
int counter = 0;

void tick()
{
    static int ticks = 0;
    ticks++;
    counter++;
}

main()
{
    while (1) {
        tick();
        sleep_ms(100);
    }
}

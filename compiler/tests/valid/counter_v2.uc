/* counter_v2.uc: the counter is now in hundredths; the global's mproc
 * converts the running value, and tick's mproc carries its static. */
int counter = 0;

void tick()
{
    static int ticks = 0;
    ticks++;
    counter += 100;
}

mproc counter {
    counter = old.counter * 100;
}

mproc tick {
    int bonus;
    bonus = 0;
    ticks = old.ticks + bonus;
    printf("tick carried %d ticks\n", old.ticks);
}

main()
{
    while (1) {
        tick();
        sleep_ms(100);
    }
}

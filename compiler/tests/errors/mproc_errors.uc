int counter = 0;

tick() { static int ticks = 0; ticks++; }

mproc tock {
    x = 1;
}

mproc counter {
    counter = old.ticks;
}

mproc tick {
    int ticks = 3;
    tick();
}

main() { tick(); }

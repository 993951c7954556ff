/* 34_time: now_ms() is milliseconds since the epoch; sleep_ms(n) waits at
   least n ms. Printed only in ways that are deterministic. */
main()
{
    long t0, t1, t2;
    t0 = now_ms();
    printf("now > 0: %ld\n", t0 > 0);
    printf("after 2020: %ld\n", t0 > 1577836800000);
    sleep_ms(20);
    t1 = now_ms();
    printf("slept >= 20 ms: %ld\n", t1 - t0 >= 20);
    printf("monotone: %ld\n", t1 >= t0);
    sleep_ms(0);
    sleep_ms(1);
    t2 = now_ms();
    printf("still moving forward: %ld\n", t2 >= t1);
    printf("under a minute: %ld\n", t2 - t0 < 60000);
}

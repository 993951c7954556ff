/* 61_busy_loop: a few million iterations of long and double arithmetic
   (a smoke test that compiled loops run fast enough and wrap correctly). */
main()
{
    long i, h = 1469598103934665603, s = 0;
    double x = 0;
    for (i = 0; i < 3000000; i++) {
        h = (h + i) * 1099511628211;
        s += i % 7;
        x += 1.0 / (i + 1);
    }
    printf("h = %ld\n", h);
    printf("s = %ld\n", s);
    printf("harmonic(3e6) = %.9f\n", x);
}

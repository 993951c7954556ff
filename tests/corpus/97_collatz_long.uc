#include <stdio.h>
/* 97_collatz_long: the longest Collatz chain below a million, a classic
   integer benchmark, with shifts for the even steps. */
#define LIMIT 300000

int main(void)
{
    long best = 0, best_n = 0, n, x, steps, peak = 0;
    for (n = 1; n < LIMIT; n++) {
        x = n;
        steps = 0;
        while (x != 1) {
            x = (x & 1) ? 3 * x + 1 : x >> 1;
            if (x > peak)
                peak = x;
            steps++;
        }
        if (steps > best) {
            best = steps;
            best_n = n;
        }
    }
    printf("longest chain below %d starts at %ld: %ld steps, peak %ld\n", LIMIT, best_n, best, peak);
    return 0;
}

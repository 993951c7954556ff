#include <stdio.h>
/* 73_int_division: C's truncating division and remainder on every sign
   combination, for long and unsigned long, and the identity
   (a/b)*b + a%b == a. */

int main(void)
{
    long as[4] = {7, -7, 7, -7};
    long bs[4] = {2, 2, -2, -2};
    int i;
    for (i = 0; i < 4; i++)
        printf("%2ld / %2ld = %2ld   %2ld %% %2ld = %2ld   ok=%d\n", as[i], bs[i], as[i] / bs[i],
               as[i], bs[i], as[i] % bs[i], (as[i] / bs[i]) * bs[i] + as[i] % bs[i] == as[i]);
    printf("%ld %ld\n", -1L / 3, -1L % 3);
    printf("%ld %ld\n", -9223372036854775807L / 10, -9223372036854775807L % 10);
    printf("%lu %lu\n", 18446744073709551615UL / 10, 18446744073709551615UL % 10);
    printf("%lu\n", (unsigned long) -7 / 2);
    printf("%ld\n", (long) ((unsigned long) -7 / 2));
    printf("%d %d\n", -17 / 5, -17 % 5);
    return 0;
}
